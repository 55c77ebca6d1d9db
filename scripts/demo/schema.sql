-- The demo shop: a schema with the mistakes pgadvise scan exists to find. Each one is marked.
CREATE EXTENSION IF NOT EXISTS pg_stat_statements;
-- HypoPG lets pgadvise cost hypothetical indexes (session-local, writes nothing); a production
-- database needs it installed the same way, or `pgadvise indexes --create-extension`.
CREATE EXTENSION IF NOT EXISTS hypopg;

CREATE TABLE customers (
    id          bigint PRIMARY KEY,
    email       text NOT NULL UNIQUE,
    full_name   text NOT NULL,
    country     text NOT NULL,
    created_at  timestamptz NOT NULL
);
-- unused-index: nothing in the workload looks customers up by name.
CREATE INDEX customers_full_name_idx ON customers (full_name);

CREATE TABLE products (
    id        integer PRIMARY KEY,
    sku       text NOT NULL UNIQUE,
    name      text NOT NULL,
    category  text NOT NULL,
    price     numeric(10,2) NOT NULL
);

CREATE TABLE orders (
    id           bigint PRIMARY KEY,
    -- missing-fk-index and a sequential scan under a selective filter: no index on customer_id.
    customer_id  bigint NOT NULL REFERENCES customers (id),
    status       text NOT NULL,
    total        numeric(12,2) NOT NULL,
    created_at   timestamptz NOT NULL
);
-- duplicate-index: the same key twice.
CREATE INDEX orders_status_idx ON orders (status);
CREATE INDEX orders_status_copy_idx ON orders (status);

CREATE TABLE order_items (
    order_id    bigint NOT NULL REFERENCES orders (id),
    line        integer NOT NULL,
    -- missing-fk-index: deleting a product scans all of order_items.
    product_id  integer NOT NULL REFERENCES products (id),
    quantity    integer NOT NULL,
    unit_price  numeric(10,2) NOT NULL,
    PRIMARY KEY (order_id, line)
);

-- seq-scan-heavy-table and a sort without a supporting index: read by kind, newest first, with no index at all.
CREATE TABLE events (
    id           bigint PRIMARY KEY,
    customer_id  bigint NOT NULL,
    kind         text NOT NULL,
    payload      jsonb NOT NULL,
    created_at   timestamptz NOT NULL
);

-- stale statistics: most rows change after the last ANALYZE and autovacuum is off for the table.
CREATE TABLE inventory (
    product_id  integer PRIMARY KEY REFERENCES products (id),
    warehouse   text NOT NULL,
    on_hand     integer NOT NULL,
    updated_at  timestamptz NOT NULL
) WITH (autovacuum_enabled = off);

-- never analyzed: bulk-loaded with autovacuum off, and nobody ran ANALYZE.
CREATE TABLE audit_log (
    id          bigint PRIMARY KEY,
    actor       text NOT NULL,
    action      text NOT NULL,
    logged_at   timestamptz NOT NULL
) WITH (autovacuum_enabled = off);
