-- One "session" of the demo application, run by pgbench with random parameters.
\set customer random(1, 50000)
\set product random(1, 5000)
\set order random(1, 200000)
\set kind random(1, 5)
SELECT id, status, total, created_at FROM orders WHERE customer_id = :customer ORDER BY created_at DESC;
SELECT * FROM customers WHERE lower(email) = lower('customer' || :customer || '@example.com');
SELECT o.id, o.total, i.product_id, i.quantity FROM orders o JOIN order_items i ON i.order_id = o.id WHERE o.id = :order;
SELECT id, customer_id, payload FROM events WHERE kind = 'search' ORDER BY created_at DESC LIMIT 50;
SELECT count(*) FROM order_items WHERE product_id = :product;
SELECT name, price FROM products WHERE id = :product;
