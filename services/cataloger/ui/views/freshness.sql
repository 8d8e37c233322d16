-- title: Freshness
-- panel: health
-- chart: table
-- age: newest_extracted_at
-- order: 10
-- description: Newest row per table; "age" is now minus its extracted_at (the table browser shows when the catalog last changed)
SELECT 'songs_data' AS table_name, max(dt) AS newest_dt, max(extracted_at) AS newest_extracted_at, count(*) AS total_rows
FROM songs_data
UNION ALL
SELECT 'albums_data', max(dt), max(extracted_at), count(*) FROM albums_data
UNION ALL
SELECT 'artists_data', max(dt), max(extracted_at), count(*) FROM artists_data
ORDER BY table_name
