-- Run in a new session after ANALYZE: the changes the statistics have not seen.
UPDATE inventory SET on_hand = on_hand + 1, updated_at = now();
INSERT INTO audit_log SELECT g, 'user' || (g % 40), (ARRAY['login','export','delete','grant'])[1 + g % 4],
       now() - g * interval '1 minute'
FROM generate_series(1, 20000) AS g;
