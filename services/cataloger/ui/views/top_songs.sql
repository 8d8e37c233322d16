-- title: Top songs
-- panel: trends
-- chart: hbar
-- x: song
-- y: popularity
-- order: 20
-- description: Highest Spotify popularity (0-100) seen in the period
SELECT s.song_name || ' – ' || coalesce(a.artist_name, '?') AS song, max(s.popularity) AS popularity
FROM songs_data s
LEFT JOIN (SELECT artist_id, max(artist_name) AS artist_name FROM artists_data GROUP BY artist_id) a
  ON a.artist_id = s.artist_id
WHERE s.dt >= {{since}} AND s.popularity IS NOT NULL
GROUP BY s.song_id, s.song_name, a.artist_name
ORDER BY popularity DESC, song
LIMIT 10
