-- title: Release years
-- panel: trends
-- chart: bar
-- x: release_year
-- y: albums
-- order: 40
-- description: Distinct albums by year of release
SELECT CAST(year(release_date) AS VARCHAR) AS release_year, count(DISTINCT album_id) AS albums
FROM albums_data
WHERE dt >= {{since}} AND release_date IS NOT NULL
GROUP BY 1
ORDER BY 1
