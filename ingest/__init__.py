"""Write side: discover, parse, clean, chunk, embed and store the partnership's documents."""
