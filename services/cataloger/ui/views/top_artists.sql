-- title: Top artists
-- panel: trends
-- chart: hbar
-- x: artist_name
-- y: songs
-- order: 10
-- description: Distinct songs per artist (a track's first artist) extracted in the period
SELECT a.artist_name, count(DISTINCT s.song_id) AS songs
FROM songs_data s
JOIN (SELECT DISTINCT artist_id, artist_name FROM artists_data) a ON a.artist_id = s.artist_id
WHERE s.dt >= {{since}}
GROUP BY a.artist_name
ORDER BY songs DESC, a.artist_name
LIMIT 10
