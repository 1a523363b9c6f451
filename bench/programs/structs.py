# Struct construction, field access and receiver methods: a particle simulation.
class Vec:
    __slots__ = ("x", "y")

    def __init__(self, x: float, y: float) -> None:
        self.x = x
        self.y = y

    def plus(a, b):
        return Vec(a.x + b.x, a.y + b.y)

    def scaled(a, k):
        return Vec(a.x * k, a.y * k)

    def norm2(a):
        return a.x * a.x + a.y * a.y


def simulate(count: int, ticks: int) -> float:
    pos = [Vec(float(i), 0.0) for i in range(count)]
    vel = [Vec(1.0, float(i % 3)) for i in range(count)]
    for t in range(ticks):
        for i in range(count):
            pos[i] = pos[i].plus(vel[i].scaled(0.1))
    total = 0.0
    for p in pos:
        total += p.norm2()
    return round(total, 6)

result = simulate(100, 200)
