# String and dict work: word counts over a real text (the language reference).
def count_words(text: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for line in text.splitlines():
        for raw in line.lower().split():
            word = raw.strip(".,;:!?()[]{}`'\"*#|-")
            if word != "":
                counts[word] = counts.get(word, 0) + 1
    return counts

def top(counts: dict[str, int], n: int) -> list[str]:
    pairs = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return [f"{w}={c}" for w, c in pairs[:n]]

with open("docs/language.md", encoding="utf-8") as handle:
    text = handle.read()
result = top(count_words(text), 10)
