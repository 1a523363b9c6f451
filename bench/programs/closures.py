# Closures and lambdas with map, filter and sorted(key=...).
def make_scaler(k: int):
    def scale(v: int) -> int:
        return v * k + 1
    return scale

def run(n: int) -> int:
    triple = make_scaler(3)
    values = list(range(n))
    mapped = list(map(triple, values))
    kept = list(filter(lambda v: v % 5 != 0, mapped))
    ordered = sorted(kept, key=lambda v: (v % 17, -v))
    adders = [make_scaler(i) for i in range(20)]
    total = 0
    for f in adders:
        total += f(ordered[0]) + f(ordered[-1])
    return total + sum(ordered[:50])

result = run(30000)
