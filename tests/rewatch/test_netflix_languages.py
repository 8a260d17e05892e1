"""Episode titles of account exports written in the member's language (rewatch.netflix.TITLE_WORDS)."""

from __future__ import annotations

import pytest

from rewatch.netflix import TITLE_WORDS, parse_title

FILM = (None, None, None, None, None)

# language -> (title, (series, season, season_number, episode, episode_number)); FILM for films.
EXAMPLES = {
    "en": (
        ("Outlander: Season 1: The Way Out (Episode 3)", ("Outlander", "Season 1", 1, "The Way Out", 3)),
        ("Black Mirror: Series 3: Nosedive (Episode 1)", ("Black Mirror", "Series 3", 3, "Nosedive", 1)),
        ("Dark Tides: Season 2: The Harbour", ("Dark Tides", "Season 2", 2, "The Harbour", None)),
        (
            "Star Wars: The Clone Wars: Season 2: Holocron Heist (Episode 1)",
            ("Star Wars: The Clone Wars", "Season 2", 2, "Holocron Heist", 1),
        ),
        (
            "The Queen's Gambit: Limited Series: Openings (Episode 1)",
            ("The Queen's Gambit", "Limited Series", None, "Openings", 1),
        ),
        ("Unorthodox: Miniseries: Part 1", ("Unorthodox", "Miniseries", None, "Part 1", None)),
        ("Money Heist: Part 3: We Set Up the Tent (Episode 1)", ("Money Heist", "Part 3", 3, "We Set Up the Tent", 1)),
        (
            "Love, Death & Robots: Volume 2: Automated Customer Service (Episode 1)",
            ("Love, Death & Robots", "Volume 2", 2, "Automated Customer Service", 1),
        ),
        (
            "Avatar: The Last Airbender: Book 1: Water: The Boy in the Iceberg (Episode 1)",
            ("Avatar: The Last Airbender", "Book 1", 1, "Water: The Boy in the Iceberg", 1),
        ),
        (
            "The Legend of Korra: Book One: Air: Welcome (Episode 1)",
            ("The Legend of Korra", "Book One", None, "Air: Welcome", 1),
        ),
        ("Pilot Light: Season 1: Pilot (Part 1) (Episode 1)", ("Pilot Light", "Season 1", 1, "Pilot (Part 1)", 1)),
        ("Mission: Impossible", FILM),
        ("Star Wars: Episode IV: A New Hope", FILM),
        ("Harry Potter and the Deathly Hallows: Part 2", FILM),
        ("Kill Bill: Volume 1", FILM),
        ("Season 1 Trailer: Heartstopper", FILM),
        ("You: Season 1 (Trailer)", FILM),
        ("Mamma Mia!", FILM),
    ),
    "es": (
        (
            "Lab Rats: Temporada 1: Misión invisible (Capítulo 18)",
            ("Lab Rats", "Temporada 1", 1, "Misión invisible", 18),
        ),
        ("Élite: Temporada 2: Samuel (Episodio 4)", ("Élite", "Temporada 2", 2, "Samuel", 4)),
        ("Las chicas del cable: Temporada 5: Despedida", ("Las chicas del cable", "Temporada 5", 5, "Despedida", None)),
        ("La casa de papel: Parte 3: Hemos vuelto (Episodio 1)", ("La casa de papel", "Parte 3", 3, "Hemos vuelto", 1)),
        ("Narcos: México: Temporada 1: Camelot (Episodio 1)", ("Narcos: México", "Temporada 1", 1, "Camelot", 1)),
        ("Gambito de dama: Miniserie: Aperturas (Episodio 1)", ("Gambito de dama", "Miniserie", None, "Aperturas", 1)),
        ("Creedme: Serie limitada: Episodio 1", ("Creedme", "Serie limitada", None, "Episodio 1", None)),
        (
            "Love, Death & Robots: Volumen 1: La ventaja de Sonnie (Episodio 1)",
            ("Love, Death & Robots", "Volumen 1", 1, "La ventaja de Sonnie", 1),
        ),
        (
            "Avatar: La leyenda de Aang: Libro 1: Agua: El niño del iceberg (Capítulo 1)",
            ("Avatar: La leyenda de Aang", "Libro 1", 1, "Agua: El niño del iceberg", 1),
        ),
        ("Cosas de casa: Capítulo 2: La mudanza (Episodio 7)", ("Cosas de casa", "Capítulo 2", 2, "La mudanza", 7)),
        ("Misión: Imposible", FILM),
        ("Star Wars: Episodio IV: Una nueva esperanza", FILM),
        ("Harry Potter y las Reliquias de la Muerte: Parte 2", FILM),
        ("Kill Bill: Volumen 1", FILM),
        ("It: Capítulo 2", FILM),
        ("Temporada de huracanes", FILM),
        ("Tiempo: temporada 1: prueba (Episodio 1)", FILM),  # the words as Netflix writes them
    ),
    "pt": (
        ("Sintonia: Temporada 2: Eu sou o que sou (Episódio 3)", ("Sintonia", "Temporada 2", 2, "Eu sou o que sou", 3)),
        ("Cidade Invisível: Temporada 1: Episódio 1", ("Cidade Invisível", "Temporada 1", 1, "Episódio 1", None)),
        ("A Casa de Papel: Parte 1: Episódio 1 (Episódio 1)", ("A Casa de Papel", "Parte 1", 1, "Episódio 1", 1)),
        ("Narcos: México: Temporada 2: Alvo (Episódio 5)", ("Narcos: México", "Temporada 2", 2, "Alvo", 5)),
        (
            "O Gambito da Rainha: Minissérie: Aberturas (Episódio 1)",
            ("O Gambito da Rainha", "Minissérie", None, "Aberturas", 1),
        ),
        (
            "Olhos que Condenam: Série limitada: Parte 1 (Episódio 1)",
            ("Olhos que Condenam", "Série limitada", None, "Parte 1", 1),
        ),
        ("Love, Death & Robots: Volume 3: Ratos (Episódio 2)", ("Love, Death & Robots", "Volume 3", 3, "Ratos", 2)),
        (
            "Avatar: A Lenda de Aang: Livro 1: Água: O menino no iceberg (Episódio 1)",
            ("Avatar: A Lenda de Aang", "Livro 1", 1, "Água: O menino no iceberg", 1),
        ),
        ("3%: Temporada 1: Capítulo 01: Cubos (Episódio 1)", ("3%", "Temporada 1", 1, "Capítulo 01: Cubos", 1)),
        ("Missão: Impossível", FILM),
        ("Harry Potter e as Relíquias da Morte: Parte 2", FILM),
        ("Kill Bill: Volume 1", FILM),
        ("Tropa de Elite 2: O Inimigo Agora É Outro", FILM),
        ("Star Wars: Episódio IV: Uma Nova Esperança", FILM),
        # no language has both words: the number stays in the episode's name
        ("Sintonia: Temporada 2: Eu sou (Folge 3)", ("Sintonia", "Temporada 2", 2, "Eu sou (Folge 3)", None)),
    ),
    "fr": (
        ("Lupin: Partie 1: Chapitre 1 (Épisode 1)", ("Lupin", "Partie 1", 1, "Chapitre 1", 1)),
        ("Lupin : Partie 2 : Chapitre 6 (Épisode 1)", ("Lupin", "Partie 2", 2, "Chapitre 6", 1)),
        ("Dix pour cent: Saison 1: Cécile (Épisode 1)", ("Dix pour cent", "Saison 1", 1, "Cécile", 1)),
        ("Marseille : Saison 2 : La guerre", ("Marseille", "Saison 2", 2, "La guerre", None)),
        (
            "Le Jeu de la dame: Mini-série: Ouvertures (Épisode 1)",
            ("Le Jeu de la dame", "Mini-série", None, "Ouvertures", 1),
        ),
        ("Unbelievable: Série limitée: Épisode 1", ("Unbelievable", "Série limitée", None, "Épisode 1", None)),
        (
            "Avatar, le dernier maître de l'air: Livre 1: L'eau: Le garçon dans l'iceberg (Épisode 1)",
            ("Avatar, le dernier maître de l'air", "Livre 1", 1, "L'eau: Le garçon dans l'iceberg", 1),
        ),
        (
            "Love, Death & Robots: Volume 1: L'avantage de Sonnie (Épisode 1)",
            ("Love, Death & Robots", "Volume 1", 1, "L'avantage de Sonnie", 1),
        ),
        (
            "Star Wars : The Clone Wars : Saison 2 : Le vol de l'holocron (Épisode 1)",
            ("Star Wars : The Clone Wars", "Saison 2", 2, "Le vol de l'holocron", 1),
        ),
        ("Mission : Impossible", FILM),
        ("Astérix : Le Secret de la potion magique", FILM),
        ("Kill Bill : Volume 1", FILM),
        ("Star Wars : Épisode IV : Un nouvel espoir", FILM),
        ("Saison des pluies", FILM),
    ),
    "de": (
        ("Dark: Staffel 1: Geheimnisse (Folge 1)", ("Dark", "Staffel 1", 1, "Geheimnisse", 1)),
        ("Babylon Berlin: Staffel 3: Folge 25", ("Babylon Berlin", "Staffel 3", 3, "Folge 25", None)),
        ("Haus des Geldes: Teil 1: Folge 1 (Folge 1)", ("Haus des Geldes", "Teil 1", 1, "Folge 1", 1)),
        ("Das Damengambit: Miniserie: Eröffnungen (Folge 1)", ("Das Damengambit", "Miniserie", None, "Eröffnungen", 1)),
        ("Unorthodox: Limitierte Serie: Teil 1", ("Unorthodox", "Limitierte Serie", None, "Teil 1", None)),
        (
            "Love, Death & Robots: Volume 1: Sonnies Vorteil (Folge 1)",
            ("Love, Death & Robots", "Volume 1", 1, "Sonnies Vorteil", 1),
        ),
        (
            "Avatar – Der Herr der Elemente: Buch 1: Wasser: Der Junge im Eisberg (Folge 1)",
            ("Avatar – Der Herr der Elemente", "Buch 1", 1, "Wasser: Der Junge im Eisberg", 1),
        ),
        (
            "Star Trek: Discovery: Staffel 1: Leuchtfeuer (Folge 1)",
            ("Star Trek: Discovery", "Staffel 1", 1, "Leuchtfeuer", 1),
        ),
        (
            "How to Sell Drugs Online (Fast): Staffel 1: Bestellung (Episode 2)",
            ("How to Sell Drugs Online (Fast)", "Staffel 1", 1, "Bestellung", 2),
        ),
        ("Die Abenteuer: Kapitel 4: Der Schatz (Folge 4)", ("Die Abenteuer", "Kapitel 4", 4, "Der Schatz", 4)),
        ("Mission: Impossible – Dead Reckoning Teil eins", FILM),
        ("Harry Potter und die Heiligtümer des Todes: Teil 2", FILM),
        ("Star Wars: Episode IV: Eine neue Hoffnung", FILM),
        ("Fack ju Göhte 3", FILM),
    ),
    "it": (
        ("Suburra: Stagione 2: Il patto (Episodio 3)", ("Suburra", "Stagione 2", 2, "Il patto", 3)),
        ("Summertime: Stagione 3: Ricominciare", ("Summertime", "Stagione 3", 3, "Ricominciare", None)),
        ("La casa di carta: Parte 1: Episodio 1 (Episodio 1)", ("La casa di carta", "Parte 1", 1, "Episodio 1", 1)),
        (
            "Star Wars: The Clone Wars: Stagione 2: Il furto dell'olocrono (Episodio 1)",
            ("Star Wars: The Clone Wars", "Stagione 2", 2, "Il furto dell'olocrono", 1),
        ),
        (
            "La regina degli scacchi: Miniserie: Aperture (Episodio 1)",
            ("La regina degli scacchi", "Miniserie", None, "Aperture", 1),
        ),
        ("Unbelievable: Serie limitata: Episodio 1", ("Unbelievable", "Serie limitata", None, "Episodio 1", None)),
        (
            "Love, Death & Robots: Volume 2: Servizio clienti automatizzato (Episodio 1)",
            ("Love, Death & Robots", "Volume 2", 2, "Servizio clienti automatizzato", 1),
        ),
        (
            "Avatar - La leggenda di Aang: Libro 1: Acqua: Il ragazzo nell'iceberg (Episodio 1)",
            ("Avatar - La leggenda di Aang", "Libro 1", 1, "Acqua: Il ragazzo nell'iceberg", 1),
        ),
        ("Il racconto: Capitolo 2: La fuga (Episodio 5)", ("Il racconto", "Capitolo 2", 2, "La fuga", 5)),
        ("Mission: Impossible", FILM),
        ("Harry Potter e i Doni della Morte: Parte 2", FILM),
        ("Kill Bill: Volume 1", FILM),
        ("Star Wars: Episodio IV: Una nuova speranza", FILM),
        ("Stagione di caccia", FILM),
    ),
}


@pytest.mark.parametrize(
    ("title", "expected"),
    [pytest.param(t, e, id=f"{lang}: {t}") for lang, cases in EXAMPLES.items() for t, e in cases],
)
def test_episode_titles_in_the_members_language(title, expected):
    parsed = parse_title(title)
    assert (parsed.series, parsed.season, parsed.season_number, parsed.episode, parsed.episode_number) == expected


def test_every_language_of_the_table_has_examples():
    assert set(EXAMPLES) == set(TITLE_WORDS)
    for language, cases in EXAMPLES.items():
        kinds = {"film" if expected == FILM else "episode" for _, expected in cases}
        assert kinds == {"film", "episode"}, language
        assert any(expected[4] is None and expected != FILM for _, expected in cases), language  # no number
        assert any(expected[2] is None and expected != FILM for _, expected in cases), language  # limited series
        assert any(":" in expected[0] for _, expected in cases if expected != FILM), language  # colons in the series


def _words(kind: str):
    for language, words in TITLE_WORDS.items():
        for word in getattr(words, kind):
            yield pytest.param(language, word, id=f"{language}: {word}")


@pytest.mark.parametrize(("language", "word"), [*_words("seasons"), *_words("parts")])
def test_every_season_and_part_word_is_read(language, word):
    episode_word = TITLE_WORDS[language].episodes[0]
    parsed = parse_title(f"Some Show: Other Name: {word} 12: A Night Out ({episode_word} 4)")
    assert (parsed.series, parsed.season, parsed.season_number, parsed.episode, parsed.episode_number) == (
        "Some Show: Other Name",
        f"{word} 12",
        12,
        "A Night Out",
        4,
    )
    assert parse_title(f"Some Film: {word} 12").series is None  # nothing after the label: a film
    assert parse_title(f"Some Show: {word.lower()} 12: A Night Out").series is None  # case as Netflix writes it


@pytest.mark.parametrize(("language", "word"), _words("limited"))
def test_every_limited_series_word_is_read(language, word):
    episode_word = TITLE_WORDS[language].episodes[0]
    parsed = parse_title(f"Some Show: {word}: A Night Out ({episode_word} 2)")
    assert (parsed.series, parsed.season, parsed.season_number, parsed.episode, parsed.episode_number) == (
        "Some Show",
        word,
        None,
        "A Night Out",
        2,
    )


@pytest.mark.parametrize(("language", "word"), _words("episodes"))
def test_every_episode_word_is_read(language, word):
    season_word = TITLE_WORDS[language].seasons[0]
    parsed = parse_title(f"Some Show: {season_word} 3: A Night Out ({word} 7)")
    assert (parsed.season_number, parsed.episode, parsed.episode_number) == (3, "A Night Out", 7)
