# Row-wise ETL over a real CSV: parse, clean, derive and aggregate Seattle's weather.
import csv


class Day:
    __slots__ = ("month", "precipitation", "temp_max", "temp_min", "weather")

    def __init__(self, month: str, precipitation: float, temp_max: float, temp_min: float,
                 weather: str) -> None:
        self.month = month
        self.precipitation = precipitation
        self.temp_max = temp_max
        self.temp_min = temp_min
        self.weather = weather


def parse_row(row: dict[str, str]) -> Day:
    return Day(row["date"][:7], float(row["precipitation"]), float(row["temp_max"]),
               float(row["temp_min"]), row["weather"])

def summarise(days: list[Day]) -> dict[str, list[float]]:
    months: dict[str, list[float]] = {}
    for d in days:
        acc = months.get(d.month)
        if acc is None:
            acc = [0.0, 0.0, 0.0]
            months[d.month] = acc
        acc[0] += 1.0
        acc[1] += d.precipitation
        acc[2] += (d.temp_max + d.temp_min) / 2.0
    return months

with open("examples/data/seattle-weather.csv", encoding="utf-8", newline="") as handle:
    rows = list(csv.DictReader(handle))
days = [parse_row(r) for r in rows if r["weather"] != ""]
months = summarise(days)
wettest = sorted(months.items(), key=lambda kv: -kv[1][1])[0]
result = [len(days), wettest[0], round(wettest[1][1], 2), len(months)]
