SELECT sum(n) OVER (PARTITION BY dt), row_number() OVER (), lag(dt) OVER (), list(song_id) OVER () FROM songs_data
