"""The reference for bench/transform_benchmark.cpp: the transform of the seed
"Spotify ETL on AWS" Lambda, done the way that Lambda does it (json.load, loops
over the playlist items building album / artist / song dicts, pandas
DataFrames, drop_duplicates, to_datetime, to_csv), on the same raw file.

The seed handled one playlist page; the extractor's envelope holds many, so
every page goes through the same loops. Also timed: the same frames written
with to_parquet (pyarrow), the format the transformer writes.

Usage: pandas_transform.py RAW_FILE [--repeat N]
Prints one JSON line: {"csv_seconds", "parquet_seconds", "songs", ...}: the best of
N runs in process CPU time (and *_wall_seconds).
"""

import io
import json
import sys
import time

import pandas as pd

try:
    import pyarrow
except ImportError:  # Parquet is optional for the comparison
    pyarrow = None


def pages_of(data):
    if isinstance(data, dict) and data.get("format") == "spotify-etl.raw.v1":
        return data["pages"]
    return [data]


def album_rows(page):
    rows = []
    for row in page["items"]:
        album = row["track"]["album"]
        rows.append({
            "album_id": album["id"],
            "name": album["name"],
            "release_date": album["release_date"],
            "total_tracks": album["total_tracks"],
            "url": album["external_urls"]["spotify"],
        })
    return rows


def artist_rows(page):
    rows = []
    for row in page["items"]:
        for key, value in row.items():
            if key == "track":
                for artist in value["artists"]:
                    rows.append({
                        "artist_id": artist["id"],
                        "artist_name": artist["name"],
                        "external_url": artist["href"],
                    })
    return rows


def song_rows(page):
    rows = []
    for row in page["items"]:
        track = row["track"]
        rows.append({
            "song_id": track["id"],
            "song_name": track["name"],
            "duration_ms": track["duration_ms"],
            "url": track["external_urls"]["spotify"],
            "popularity": track["popularity"],
            "song_added": row["added_at"],
            "album_id": track["album"]["id"],
            "artist_id": track["album"]["artists"][0]["id"],
        })
    return rows


def frames(path):
    with open(path, "rb") as f:
        data = json.load(f)
    albums, artists, songs = [], [], []
    for page in pages_of(data):
        albums += album_rows(page)
        artists += artist_rows(page)
        songs += song_rows(page)
    album_df = pd.DataFrame.from_dict(albums).drop_duplicates(subset=["album_id"])
    artist_df = pd.DataFrame.from_dict(artists).drop_duplicates(subset=["artist_id"])
    song_df = pd.DataFrame.from_dict(songs)
    # Release dates come as YYYY, YYYY-MM or YYYY-MM-DD.
    album_df["release_date"] = pd.to_datetime(album_df["release_date"], format="mixed", errors="coerce")
    song_df["song_added"] = pd.to_datetime(song_df["song_added"])
    return album_df, artist_df, song_df


def to_csv(path):
    out = 0
    for df in frames(path):
        buffer = io.StringIO()
        df.to_csv(buffer, index=False)
        out += len(buffer.getvalue())
    return out


def to_parquet(path):
    out = 0
    for df in frames(path):
        buffer = io.BytesIO()
        df.to_parquet(buffer, index=False, compression="zstd")
        out += buffer.getbuffer().nbytes
    return out


def best_seconds(repeat, fn, *args):
    """Best of `repeat` runs in process CPU time (all threads), and the best wall time."""
    cpu, wall = [], []
    for _ in range(repeat):
        c0, w0 = time.process_time(), time.perf_counter()
        fn(*args)
        cpu.append(time.process_time() - c0)
        wall.append(time.perf_counter() - w0)
    return min(cpu), min(wall)


def main():
    path = sys.argv[1]
    repeat = int(sys.argv[sys.argv.index("--repeat") + 1]) if "--repeat" in sys.argv else 3
    songs = len(frames(path)[2])
    result = {"songs": songs, "pandas": pd.__version__}
    result["csv_seconds"], result["csv_wall_seconds"] = best_seconds(repeat, to_csv, path)
    if pyarrow is not None:
        result["pyarrow"] = pyarrow.__version__
        result["parquet_seconds"], result["parquet_wall_seconds"] = best_seconds(repeat, to_parquet, path)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
