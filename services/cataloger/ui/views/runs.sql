-- title: Runs and their outcome
-- panel: health
-- chart: runs
-- order: 30
-- description: The extractor's newest runs (its run records, GET /v1/pipeline/runs) with the songs_data rows each put in the tables in this period (this query)
SELECT run_id, count(*) AS song_rows
FROM songs_data
WHERE dt >= {{since}}
GROUP BY run_id
ORDER BY run_id DESC
LIMIT 1000
