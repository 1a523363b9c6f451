# Comprehensions: list, dict and set comprehensions, nested and filtered.
def pythagorean(limit: int) -> int:
    triples = [(a, b) for a in range(1, limit) for b in range(a, limit) if (a * a + b * b) % 7 == 0]
    squares = {n: n * n for n in range(limit * 20)}
    residues = {v % 97 for v in squares.values()}
    evens = [v for v in squares.values() if v % 2 == 0]
    return len(triples) + len(residues) + len(evens)

result = pythagorean(400)
