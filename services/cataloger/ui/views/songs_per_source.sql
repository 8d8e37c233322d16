-- title: Songs per source
-- panel: trends
-- chart: hbar
-- x: source
-- y: songs, rows
-- order: 60
-- description: Distinct songs and rows per extracted source (type:id), largest first
SELECT source_type || ':' || source_id AS source, count(DISTINCT song_id) AS songs, count(*) AS rows
FROM songs_data
WHERE dt >= {{since}}
GROUP BY source_type, source_id
ORDER BY songs DESC, source
LIMIT 15
