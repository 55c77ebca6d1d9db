-- Deterministic, realistic volumes: enough rows that a missing index costs real time.
SELECT setseed(0.42);

INSERT INTO customers
SELECT g, 'customer' || g || '@example.com',
       (ARRAY['Ada','Grace','Linus','Edsger','Barbara','Ken','Margaret','Dennis'])[1 + g % 8] || ' ' ||
       (ARRAY['Lovelace','Hopper','Torvalds','Dijkstra','Liskov','Thompson','Hamilton','Ritchie'])[1 + (g / 8) % 8],
       (ARRAY['DE','FR','US','GB','JP','BR','IN','NL','SE','ES'])[1 + g % 10],
       now() - (g % 1000) * interval '1 day'
FROM generate_series(1, 50000) AS g;

INSERT INTO products
SELECT g, 'SKU-' || lpad(g::text, 6, '0'), 'Product ' || g,
       (ARRAY['books','music','garden','toys','kitchen','sports'])[1 + g % 6], 5 + (g % 200)
FROM generate_series(1, 5000) AS g;

INSERT INTO orders
SELECT g, 1 + (hashint4(g)::bigint & 2147483647) % 50000,
       CASE WHEN g % 100 < 90 THEN 'delivered' WHEN g % 100 < 97 THEN 'shipped' ELSE 'pending' END,
       10 + g % 490, now() - (g % 730) * interval '1 day' - (g % 1440) * interval '1 minute'
FROM generate_series(1, 200000) AS g;

INSERT INTO order_items
SELECT o, l, 1 + (hashint4(o * 3 + l)::bigint & 2147483647) % 5000, 1 + l, 5 + (o + l) % 200
FROM generate_series(1, 200000) AS o, generate_series(1, 2) AS l;

INSERT INTO events
SELECT g, 1 + g % 50000, (ARRAY['page_view','search','add_to_cart','checkout','login'])[1 + g % 5],
       jsonb_build_object('path', '/p/' || (g % 5000), 'ms', g % 900),
       now() - g * interval '13 seconds'
FROM generate_series(1, 200000) AS g;

INSERT INTO inventory SELECT g, 'WH-' || (g % 4), g % 300, now() - interval '30 days' FROM generate_series(1, 5000) AS g;
