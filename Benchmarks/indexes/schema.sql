-- Application-like schema for the `pgadvise indexes` benchmark: one statement needs each index kind.
-- Rows: :scale / :div times 1M orders, 3M order items, 3M events, 200k customers and products (div 1 for
-- the benchmark). A tenth of the orders belong to 20 large accounts (5,000 each at scale 1); the other
-- customers have about five each. Order items repeat (product, quantity) pairs: 2,000 products x 5.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE TABLE customers (id int PRIMARY KEY, email text NOT NULL, name text NOT NULL, country text NOT NULL);
INSERT INTO customers SELECT i, 'User' || i || '@Example.com', 'name ' || i, (ARRAY['fr','de','us','jp'])[1 + i % 4]
  FROM generate_series(1, 200000 * :scale / :div) i;
CREATE INDEX customers_name_idx ON customers (name);
CREATE TABLE orders (id int PRIMARY KEY, customer_id int NOT NULL REFERENCES customers, status text NOT NULL,
                     created_at timestamptz NOT NULL, total numeric(10,2) NOT NULL, note text);
INSERT INTO orders SELECT i,
    CASE WHEN i % 10 = 0 THEN 1 + (i / 10) % 20 ELSE 21 + (i::bigint * 7919) % (200000 * :scale / :div - 20) END,
    CASE WHEN i % 100 = 0 THEN 'pending' WHEN i % 5 = 0 THEN 'delivered' ELSE 'shipped' END,
    timestamptz '2024-01-01' + ((i::bigint * 104729) % 525600) * interval '1 minute', (i % 1000) / 10.0, repeat('x', 40)
  FROM generate_series(1, 1000000 * :scale / :div) i;
CREATE INDEX orders_customer_id_idx ON orders (customer_id);
CREATE TABLE products (id int PRIMARY KEY, sku text NOT NULL, tags text[] NOT NULL, attrs jsonb NOT NULL, description text NOT NULL);
INSERT INTO products SELECT i, 'SKU-' || i, ARRAY['t' || (i % 97), 't' || (i % 89)],
    jsonb_build_object('color', 'c' || (i % 53), 'size', i % 7), md5(i::text) || ' ' || md5((i * 3)::text)
  FROM generate_series(1, 200000 * :scale / :div) i;
CREATE TABLE events (id bigint, recorded_at timestamptz NOT NULL, value float8 NOT NULL);
INSERT INTO events SELECT i, timestamptz '2024-01-01' + i * interval '1 second', i % 100
  FROM generate_series(1, 3000000 * :scale / :div) i;
CREATE TABLE order_items (order_id int NOT NULL, product_id int NOT NULL, quantity int NOT NULL);
INSERT INTO order_items SELECT 1 + i / 3, 1 + (i::bigint * 7919) % 2000, 1 + i % 5
  FROM generate_series(0, 3000000 * :scale / :div - 1) i;
