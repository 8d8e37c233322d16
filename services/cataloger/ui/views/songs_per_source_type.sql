-- title: Songs per source type
-- panel: trends
-- chart: doughnut
-- x: source_type
-- y: songs
-- order: 50
-- description: Distinct songs by the kind of source they came from (playlist, album, search)
SELECT source_type, count(DISTINCT song_id) AS songs
FROM songs_data
WHERE dt >= {{since}}
GROUP BY source_type
ORDER BY songs DESC, source_type
