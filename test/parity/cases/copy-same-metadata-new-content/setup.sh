touch -d @1700000000 a b
