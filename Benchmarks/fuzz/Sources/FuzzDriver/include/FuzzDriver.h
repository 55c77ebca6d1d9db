#ifndef PGADVISE_FUZZ_DRIVER_H
#define PGADVISE_FUZZ_DRIVER_H
#include <stddef.h>
#include <stdint.h>

// libFuzzer's documented entry for programs that own `main` (LLVM >= 12). SwiftPM links every
// executable with `--defsym main=<Module>_main`, so a fuzz target names its entry `<Module>_main`
// and hands control to libFuzzer here; libFuzzer's own `main` is then never linked in.
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));

#endif
