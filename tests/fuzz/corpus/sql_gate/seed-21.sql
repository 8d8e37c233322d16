SELECT [x + 1 FOR x IN [1, 2] IF x > 1], unnest([1]), 'a' ILIKE 'A', 2 ** 3, no_such_function(1), setseed(0.5)
