-- title: Rows per table and day
-- panel: health
-- chart: bar
-- x: dt
-- y: songs_data, albums_data, artists_data
-- order: 20
-- description: Rows in each dt partition (the UTC day of extraction)
SELECT dt, sum(songs) AS songs_data, sum(albums) AS albums_data, sum(artists) AS artists_data
FROM (
  SELECT dt, count(*) AS songs, 0 AS albums, 0 AS artists FROM songs_data WHERE dt >= {{since}} GROUP BY dt
  UNION ALL
  SELECT dt, 0, count(*), 0 FROM albums_data WHERE dt >= {{since}} GROUP BY dt
  UNION ALL
  SELECT dt, 0, 0, count(*) FROM artists_data WHERE dt >= {{since}} GROUP BY dt
) t
GROUP BY dt
ORDER BY dt
