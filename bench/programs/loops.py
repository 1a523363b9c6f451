# Nested loops with int and float arithmetic: a Mandelbrot-style escape count.
def escapes(size: int, limit: int) -> int:
    total = 0
    for row in range(size):
        for col in range(size):
            cr = 2.5 * col / size - 2.0
            ci = 2.0 * row / size - 1.0
            zr = 0.0
            zi = 0.0
            n = 0
            while n < limit and zr * zr + zi * zi < 4.0:
                zr, zi = zr * zr - zi * zi + cr, 2.0 * zr * zi + ci
                n += 1
            total += n
    return total

result = escapes(64, 50)
