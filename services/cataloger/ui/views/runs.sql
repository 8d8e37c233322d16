-- title: Runs that reached the tables
-- panel: health
-- chart: table
-- order: 30
-- description: Extractor runs by their rows in songs_data (newest first); outcomes are the extractor's GET /v1/runs
SELECT run_id, min(extracted_at) AS first_extracted_at, count(DISTINCT source_type || ':' || source_id) AS sources,
       count(*) AS song_rows
FROM songs_data
WHERE dt >= {{since}}
GROUP BY run_id
ORDER BY first_extracted_at DESC, run_id
LIMIT 20
