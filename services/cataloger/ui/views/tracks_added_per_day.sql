-- title: Tracks added per day
-- panel: trends
-- chart: line
-- x: day
-- y: tracks
-- order: 30
-- description: Distinct tracks by the day they were added to a playlist (added_at), over the rows extracted in the period
SELECT CAST(CAST(added_at AS DATE) AS VARCHAR) AS day, count(DISTINCT song_id) AS tracks
FROM songs_data
WHERE dt >= {{since}} AND added_at IS NOT NULL
GROUP BY 1
ORDER BY 1
