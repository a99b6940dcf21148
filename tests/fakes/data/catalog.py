"""The shared catalog served by every fake upstream.

One list of works, each with its editions and authors. Every upstream renders the same ISBNs, but
each one covers different fields, like the real services do, so a field-level merge matters:

- Google Books: description, BISAC-style categories, only small thumbnails, ``pageCount``
  (sometimes 0), ``publishedDate`` in several precisions; no first publication year.
- OpenLibrary: ``first_publish_year``, cover ids, subjects, edition counts; edition descriptions
  are rare and page counts are sometimes missing.
- ISBNdb: ``binding``, ``pages``, ``msrp``, ``dimensions``, ``synopsis`` (sometimes), a large cover
  URL; ``date_published`` is sometimes an int.

``sources`` on an edition says which upstreams know it: ``g`` Google, ``o`` OpenLibrary,
``i`` ISBNdb. Keys with a ``google_``, ``ol_`` or ``isbndb_`` prefix are upstream-specific.
ISBNs marked "fake" in a comment are made up (valid check digit not guaranteed); the rest are real.
"""

from __future__ import annotations

# OpenLibrary author key -> author record. ``wikidata`` links to tests/fakes/data/wikidata.json.
AUTHORS: dict[str, dict] = {
    "OL1390656A": {"name": "Jeff VanderMeer", "birth_date": "July 7, 1968", "wikidata": "Q9990011",
                   "photo": 9990011},
    "OL34184A": {"name": "Roald Dahl", "birth_date": "13 September 1916",
                 "death_date": "23 November 1990", "wikidata": "Q25161", "photo": 9395323},
    "OL382982A": {"name": "Garth Nix", "birth_date": "19 July 1963", "wikidata": "Q9990012"},
    "OL26320A": {"name": "J.R.R. Tolkien", "birth_date": "3 January 1892",
                 "death_date": "2 September 1973", "wikidata": "Q892", "photo": 6791763,
                 "alternate_names": ["John Ronald Reuel Tolkien", "J. R. R. Tolkien"]},
    "OL7313085A": {"name": "Adrian Tchaikovsky", "birth_date": "1972", "wikidata": "Q9990013"},
    "OL7366785A": {"name": "Amal El-Mohtar", "wikidata": "Q9990014"},
    "OL6894843A": {"name": "Max Gladstone", "wikidata": "Q9990015"},
    "OL27349A": {"name": "F. Scott Fitzgerald", "birth_date": "September 24, 1896",
                 "death_date": "December 21, 1940", "wikidata": "Q93354", "photo": 6300543,
                 "alternate_names": ["Francis Scott Fitzgerald"]},
    "OL79034A": {"name": "Frank Herbert", "birth_date": "8 October 1920",
                 "death_date": "11 February 1986", "wikidata": "Q7934", "photo": 6532291},
    "OL7234434A": {"name": "Andy Weir", "birth_date": "16 June 1972", "wikidata": "Q9990016"},
    "OL1388281A": {"name": "Susanna Clarke", "birth_date": "1 November 1959",
                   "wikidata": "Q9990017"},
    "OL31444A": {"name": "Toni Morrison", "birth_date": "February 18, 1931",
                 "death_date": "August 5, 2019", "wikidata": "Q72334", "photo": 6294920,
                 "alternate_names": ["Chloe Anthony Wofford Morrison"]},
    "OL29946A": {"name": "Chinua Achebe", "birth_date": "16 November 1930",
                 "death_date": "21 March 2013", "wikidata": "Q155845"},
    "OL1390923A": {"name": "Haruki Murakami", "birth_date": "12 January 1949",
                   "wikidata": "Q134798", "alternate_names": ["村上春樹", "Murakami Haruki"]},
    "OL124171A": {"name": "Albert Camus", "birth_date": "7 November 1913",
                  "death_date": "4 January 1960", "wikidata": "Q34670"},
    "OL4586796A": {"name": "Gabriel García Márquez", "birth_date": "6 March 1927",
                   "death_date": "17 April 2014", "wikidata": "Q5878",
                   "alternate_names": ["Gabriel Garcia Marquez", "Gabo"]},
    "OL23919A": {"name": "J. K. Rowling", "birth_date": "31 July 1965", "wikidata": "Q34660",
                 "alternate_names": ["Joanne Rowling", "Robert Galbraith"]},
    "OL25712A": {"name": "Terry Pratchett", "birth_date": "28 April 1948",
                 "death_date": "12 March 2015", "wikidata": "Q46248"},
    "OL31710A": {"name": "Ursula K. Le Guin", "birth_date": "October 21, 1929",
                 "death_date": "January 22, 2018", "wikidata": "Q181659", "photo": 6275946},
    "OL3425542A": {"name": "Chimamanda Ngozi Adichie", "birth_date": "15 September 1977",
                   "wikidata": "Q9990018"},
    "OL236174A": {"name": "Jamaica Kincaid", "birth_date": "May 25, 1949",
                  "wikidata": "Q9990019", "alternate_names": ["Elaine Potter Richardson"]},
    "OL7027183A": {"name": "Marlon James", "birth_date": "1970", "wikidata": "Q9990020"},
    "OL109567A": {"name": "Chinghiz Aitmatov", "birth_date": "12 December 1928",
                  "death_date": "10 June 2008", "wikidata": "Q9990021",
                  "alternate_names": ["Chingiz Aitmatov", "Чингиз Айтматов"]},
    "OL1102343A": {"name": "Vincent Eri", "birth_date": "1936", "death_date": "1993",
                   "wikidata": "Q9990022"},
}


def ed(isbn13, isbn10, fmt, publisher, date, *, pages=None, lang="en", title=None, subtitle=None,
       ol_key=None, google_id=None, cover_id=None, sources="goi", **extra):
    """One edition. ``date`` is ISO (``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``)."""
    record = {
        "isbn13": isbn13, "isbn10": isbn10, "format": fmt, "publisher": publisher, "date": date,
        "pages": pages, "lang": lang, "title": title, "subtitle": subtitle, "ol_key": ol_key,
        "google_id": google_id, "cover_id": cover_id, "sources": sources,
    }
    record.update(extra)
    return record


# ``format`` is the ISBNdb binding string (also mapped to OpenLibrary physical_format).
WORKS: list[dict] = [
    {
        "key": "OL17823492W", "title": "Annihilation", "authors": ["OL1390656A"],
        "first_publish_year": 2014, "covers": [7279130],
        "subjects": ["Science fiction", "Fiction, science fiction, general", "Area X"],
        "google_categories": ["Fiction / Science Fiction / General"],
        "description": "Describes the 12th expedition to \u201cArea X,\u201d a region cut off from "
                       "the continent for decades.",
        "editions": [
            ed("9780374104092", "0374104093", "Paperback", "Farrar, Straus and Giroux", "2014-02-04",
               pages=209, subtitle="A Novel", ol_key="OL26406393M", google_id="2cl7AgAAQBAJ",
               cover_id=7279130, msrp="15.00", isbndb_date=2014),
            ed("9780007543267", "0007543263", "Kindle Edition", "Fourth Estate", "2014-02-27",
               pages=208, ol_key="OL26406394M", google_id="FakeAnnGB01", sources="gi"),
        ],
    },
    {
        "key": "OL45804W", "title": "Fantastic Mr Fox", "authors": ["OL34184A"],
        "first_publish_year": 1970, "covers": [6498519, 8904777],
        "subjects": ["Animals", "Foxes", "Juvenile fiction", "Children's stories, English"],
        "google_categories": ["Juvenile Fiction / Animals / General"],
        "description": "Three nasty farmers try to starve out Mr Fox and his family.",
        "editions": [
            ed("9780140328721", "0140328726", "Mass Market Paperback", "Puffin", "1988-10-01",
               pages=96, ol_key="OL7353617M", google_id="jqs5DwAAQBAJ", cover_id=8739161,
               msrp="6.99", google_description=False),
            ed("9780142410349", "0142410349", "Paperback", "Puffin Books", "2007-08-16",
               pages=96, ol_key="OL9958397M", google_id="FakeFoxGB02", cover_id=6498519),
        ],
    },
    {
        "key": "OL15832982W", "title": "Sabriel", "authors": ["OL382982A"],
        "first_publish_year": 1995, "covers": [6796986, 3843137],
        "subjects": ["Fantasy", "Necromancy", "Juvenile fiction"],
        "google_categories": ["Young Adult Fiction / Fantasy / General"],
        "description": None,
        "editions": [
            ed("9780060273224", "0060273224", "Hardcover", "Harper Trophy", "1996",
               pages=491, ol_key="OL22951843M", google_id="FakeSabGB01", cover_id=None),
            ed("9780064471831", "0064471837", "Paperback", "HarperCollins", "1997-09-30",
               pages=496, ol_key="OL7283010M", google_id="FakeSabGB02", cover_id=6796986),
        ],
    },
    {
        "key": "OL27448W", "title": "The Lord of the Rings", "authors": ["OL26320A"],
        "first_publish_year": 1954, "covers": [14625765, 255844],
        "subjects": ["Fantasy fiction", "Middle Earth (Imaginary place)", "Fiction"],
        "google_categories": ["Fiction / Fantasy / Epic"],
        "description": "One Ring to rule them all, One Ring to find them.",
        "editions": [
            ed("9780618640157", "0618640150", "Paperback", "Houghton Mifflin", "2005-10-12",
               pages=1178, ol_key="OL7987453M", google_id="yl4dILkcqm4C", cover_id=14625765,
               msrp="25.00"),
            ed("9780544003415", "0544003411", "Paperback", "Mariner Books", "2012-09-25",
               pages=1216, ol_key="OL25425555M", google_id="FakeLotrGB2", cover_id=255844),
            ed("9780261103252", "0261103253", "Paperback", "HarperCollins", "1995",
               pages=1137, ol_key="OL7591516M", sources="oi", cover_id=None),
        ],
    },
    {
        "key": "OL17801202W", "title": "Children of Time", "authors": ["OL7313085A"],
        "first_publish_year": 2015, "covers": [8302512],
        "subjects": ["Science fiction", "Spiders", "Space colonies"],
        "google_categories": ["Fiction / Science Fiction / Space Opera"],
        "description": "The last remnants of the human race left a dying Earth, desperate to "
                       "find a new home among the stars.",
        "editions": [
            ed("9780316452502", "0316452505", "Paperback", "Orbit", "2018-12-11", pages=0,
               ol_key="OL27179285M", google_id="49T5twEACAAJ", cover_id=8302512, msrp="17.99"),
            ed("9782072853319", "2072853311", "Kindle Edition", "Editions Gallimard",
               "2019-10-03", pages=650, lang="fr", title="Dans la toile du temps",
               ol_key="OL27179286M", google_id="G7utDwAAQBAJ", sources="gi"),
        ],
    },
    {
        "key": "OL20639540W", "title": "This Is How You Lose the Time War",
        "authors": ["OL7366785A", "OL6894843A"], "first_publish_year": 2019, "covers": [8591974],
        "subjects": ["Time travel", "Epistolary fiction", "Science fiction"],
        "google_categories": ["Fiction / Science Fiction / Time Travel"],
        "description": "Two time-traveling agents from warring futures fall in love.",
        "editions": [
            ed("9781534431003", "1534431004", "Hardcover", "Saga Press", "2019-07-16", pages=209,
               ol_key="OL27227271M", google_id="FakeTWGB001", cover_id=8591974, msrp="19.99"),
            ed("9781534430990", "1534430997", "Paperback", "Saga Press", "2020-07-14", pages=208,
               ol_key="OL28000001M", sources="oi"),
        ],
    },
    {
        "key": "OL468431W", "title": "The Great Gatsby", "authors": ["OL27349A"],
        "first_publish_year": 1925, "covers": [10590366, 7222246],
        "subjects": ["Wealth", "Long Island (N.Y.)", "Fiction", "American fiction"],
        "google_categories": ["Fiction / Classics"],
        "description": "The story of the mysteriously wealthy Jay Gatsby and his love for the "
                       "beautiful Daisy Buchanan.",
        "editions": [
            ed("9780743273565", "0743273567", "Paperback", "Scribner", "2004-09-30", pages=180,
               ol_key="OL7342749M", google_id="iXn5U2IzVH0C", cover_id=10590366, msrp="17.00"),
            ed("9780141182636", "0141182636", "Paperback", "Penguin Modern Classics", "2000-03-30",
               pages=192, ol_key="OL7410345M", google_id="FakeGatsby2", cover_id=7222246,
               sources="goi"),
            ed("9781524879761", "1524879762", "Kindle Edition", "Scribner", "2018-06", pages=180,
               google_id="FakeGatsby3", sources="gi"),
            ed("9781442340763", "1442340762", "Audio CD", "Simon & Schuster Audio", "2010",
               ol_key="OL26180001M", sources="oi"),
        ],
    },
    {
        "key": "OL893415W", "title": "Dune", "authors": ["OL79034A"],
        "first_publish_year": 1965, "covers": [11481354, 9269962],
        "subjects": ["Science fiction", "Arrakis (Imaginary place)", "Desert ecology",
                     "Hugo Award Winner", "Nebula Award Winner"],
        "google_categories": ["Fiction / Science Fiction / Space Opera"],
        "description": "Set on the desert planet Arrakis, Dune is the story of the boy Paul "
                       "Atreides, heir to a noble family tasked with ruling an inhospitable world.",
        "editions": [
            ed("9780441172719", "0441172717", "Mass Market Paperback", "Ace", "1990-09-01",
               pages=535, ol_key="OL26242482M", google_id="B1hSG45JCX4C", cover_id=11481354,
               msrp="10.99"),
            ed("9780441013593", "0441013597", "Paperback", "Ace", "2005-08-02", pages=528,
               ol_key="OL7353234M", google_id="p1MULH7JsTQC", cover_id=9269962),
            ed("9780593099322", "0593099322", "Hardcover", "Ace", "2019-10-01", pages=617,
               ol_key="OL27917112M", google_id="FakeDuneGB3", cover_id=None, msrp="30.00",
               isbndb_date=2019),
            ed("9781427201430", "1427201439", "Audio CD", "Macmillan Audio", "2007-01-09",
               ol_key="OL24269452M", sources="oi"),
            ed("9780593201732", None, "Kindle Edition", "Ace", "2020-05", pages=896,
               google_id="FakeDuneGB5", sources="g"),
            ed("9788497596824", "8497596820", "Paperback", "Debolsillo", "2003", pages=784,
               lang="es", title="Dune", ol_key="OL12548001M", sources="oi"),
        ],
    },
    {
        "key": "OL21745884W", "title": "Project Hail Mary", "authors": ["OL7234434A"],
        "first_publish_year": 2021, "covers": [11200092],
        "subjects": ["Science fiction", "Astronauts", "Space flight"],
        "google_categories": ["Fiction / Science Fiction / Hard Science Fiction"],
        "description": "Ryland Grace is the sole survivor on a desperate, last-chance mission.",
        "editions": [
            ed("9780593135204", "0593135202", "Hardcover", "Ballantine Books", "2021-05-04",
               pages=496, ol_key="OL32146003M", google_id="FakePHMGB01", cover_id=11200092,
               msrp="28.99"),
            ed("9780593395561", None, "Audio CD", "Random House Audio", "2021-05-04",
               sources="i"),
        ],
    },
    {
        "key": "OL20893680W", "title": "Piranesi", "authors": ["OL1388281A"],
        "first_publish_year": 2020, "covers": [10391185],
        "subjects": ["Fantasy fiction", "Labyrinths"],
        "google_categories": ["Fiction / Fantasy / Contemporary"],
        "description": "Piranesi has always lived in the House.",
        "editions": [
            ed("9781635575637", "1635575633", "Hardcover", "Bloomsbury Publishing", "2020-09-15",
               pages=272, ol_key="OL28462412M", google_id="FakePirGB01", cover_id=10391185),
            ed("9781526622426", "1526622424", "Hardcover", "Bloomsbury", "2020-09",
               pages=245, ol_key="OL28462413M", sources="oi", msrp="16.99"),
        ],
    },
    {
        "key": "OL2671587W", "title": "Beloved", "authors": ["OL31444A"],
        "first_publish_year": 1987, "covers": [8231993],
        "subjects": ["African American women", "Slavery", "Fiction"],
        "google_categories": ["Fiction / African American & Black / General"],
        "description": None,
        "editions": [
            ed("9781400033416", "1400033411", "Paperback", "Vintage", "2004-06-08", pages=324,
               ol_key="OL3309345M", google_id="sfmp6gjZGP8C", cover_id=8231993, msrp="16.00"),
        ],
    },
    {
        "key": "OL2843451W", "title": "Things Fall Apart", "authors": ["OL29946A"],
        "first_publish_year": 1958, "covers": [6608421],
        "subjects": ["Igbo (African people)", "Nigeria", "Fiction"],
        "google_categories": ["Fiction / Literary"],
        "description": "Okonkwo is the greatest warrior alive, famous throughout West Africa.",
        "editions": [
            ed("9780385474542", "0385474547", "Paperback", "Anchor Books", "1994-09-01",
               pages=209, ol_key="OL1105961M", google_id="FakeTFAGB01", cover_id=6608421),
        ],
    },
    {
        "key": "OL15353436W", "title": "1Q84", "authors": ["OL1390923A"],
        "first_publish_year": 2009, "covers": [6979861],
        "subjects": ["Fiction", "Japan", "Parallel universes"],
        "google_categories": ["Fiction / Literary"],
        "description": "The year is 1984 and the city is Tokyo.",
        "editions": [
            ed("9784103534228", "4103534222", "Hardcover", "新潮社", "2009-05-29", pages=554,
               lang="ja", title="1Q84 BOOK1", ol_key="OL24962010M", google_id="FakeIQ84JA1",
               cover_id=None),
            ed("9780307593313", "0307593312", "Hardcover", "Alfred A. Knopf", "2011-10-25",
               pages=925, ol_key="OL24962011M", google_id="FakeIQ84EN1", cover_id=6979861,
               msrp="30.50"),
            ed("9780307476463", "0307476464", "Paperback", "Vintage", "2013-05-14", pages=1184,
               ol_key="OL26500001M", sources="oi"),
        ],
    },
    {
        "key": "OL1084851W", "title": "L'Étranger", "authors": ["OL124171A"],
        "first_publish_year": 1942, "covers": [8295473],
        "subjects": ["Roman", "French fiction", "Algeria"],
        "google_categories": ["Fiction / Classics"],
        "description": "Aujourd'hui, maman est morte.",
        "editions": [
            ed("9782070360024", "2070360024", "Mass Market Paperback", "Gallimard", "1971",
               pages=186, lang="fr", ol_key="OL7849131M", google_id="FakeEtrGB01",
               cover_id=8295473, msrp="6.60"),
        ],
    },
    {
        "key": "OL274505W", "title": "Cien años de soledad", "authors": ["OL4586796A"],
        "first_publish_year": 1967, "covers": [12627870],
        "subjects": ["Macondo (Imaginary place)", "Ficción", "Realismo mágico"],
        "google_categories": ["Fiction / Hispanic & Latino"],
        "description": "La historia de la familia Buendía a lo largo de siete generaciones.",
        "editions": [
            ed("9780307474728", "0307474720", "Paperback", "Vintage Español", "2009-02-24",
               pages=496, lang="es", ol_key="OL23231340M", google_id="FakeCienGB1",
               cover_id=12627870),
            ed("9780060883287", "0060883286", "Paperback", "Harper Perennial Modern Classics",
               "2006-02-21", pages=417, title="One Hundred Years of Solitude",
               ol_key="OL7931560M", google_id="FakeCienGB2", cover_id=None),
        ],
    },
    {
        "key": "OL59863W", "title": "The Left Hand of Darkness", "authors": ["OL31710A"],
        "first_publish_year": 1969, "covers": [8256155],
        "subjects": ["Science fiction", "Gender identity"],
        "google_categories": ["Fiction / Science Fiction / General"],
        "description": "A lone human ambassador is sent to Winter, an alien world.",
        "editions": [
            ed("9780441478125", "0441478123", "Mass Market Paperback", "Ace", "1987-03-15",
               pages=304, ol_key="OL7265234M", google_id="FakeLHDGB01", cover_id=8256155),
        ],
    },
    {
        "key": "OL17062644W", "title": "Americanah", "authors": ["OL3425542A"],
        "first_publish_year": 2013, "covers": [7359226],
        "subjects": ["Nigerians", "Immigrants", "Fiction"],
        "google_categories": ["Fiction / Literary"],
        "description": "Ifemelu and Obinze are young and in love when they depart "
                       "military-ruled Nigeria.",
        "editions": [
            ed("9780307271082", "0307271080", "Hardcover", "Alfred A. Knopf", "2013-05-14",
               pages=477, ol_key="OL25424931M", google_id="FakeAmeGB01", cover_id=7359226),
        ],
    },
    {
        "key": "OL82563W", "title": "Harry Potter and the Philosopher's Stone",
        "authors": ["OL23919A"], "first_publish_year": 1997, "covers": [10521270],
        "subjects": ["Magic", "Wizards", "Juvenile fiction"],
        "google_categories": ["Juvenile Fiction / Fantasy & Magic"],
        "description": None,
        "editions": [
            ed("9780747532699", "0747532699", "Hardcover", "Bloomsbury", "1997-06-26", pages=223,
               ol_key="OL22856696M", google_id="FakeHP1GB01", cover_id=10521270, msrp="20.00"),
        ],
    },
    {
        "key": "OL453936W", "title": "Guards! Guards!", "authors": ["OL25712A"],
        "first_publish_year": 1989, "covers": [8447513],
        "subjects": ["Discworld (Imaginary place)", "Dragons", "Fiction"],
        "google_categories": ["Fiction / Fantasy / Humorous"],
        "description": "The Ankh-Morpork City Watch faces a dragon.",
        "editions": [
            ed("9780552134637", "0552134635", "Mass Market Paperback", "Corgi", "1990",
               pages=416, ol_key="OL7506812M", google_id="FakeGGGB0001", cover_id=8447513),
        ],
    },
    {
        "key": "OL17336927W", "title": "A Brief History of Seven Killings", "authors": ["OL7027183A"],
        "first_publish_year": 2014, "covers": [8155389],
        "subjects": ["Jamaica", "Fiction"], "google_categories": ["Fiction / Literary"],
        "description": "A novel exploring the attempted assassination of Bob Marley.",
        "editions": [
            ed("9781594633942", "1594633940", "Hardcover", "Riverhead Books", "2014-10-02",
               pages=688, ol_key="OL26882468M", google_id="FakeBHSKGB1", cover_id=8155389),
        ],
    },
    {
        "key": "OL1961637W", "title": "Annie John", "authors": ["OL236174A"],
        "first_publish_year": 1985, "covers": [7893316],
        "subjects": ["Antigua", "Mothers and daughters", "Fiction"],
        "google_categories": ["Fiction / Coming of Age"],
        "description": None,
        "editions": [
            ed("9780374525101", "0374525102", "Paperback", "Farrar, Straus and Giroux",
               "1997-03-31", pages=148, ol_key="OL1004531M", google_id="FakeAJGB001",
               cover_id=7893316),
        ],
    },
    {
        "key": "OL1050911W", "title": "Jamilia", "authors": ["OL109567A"],
        "first_publish_year": 1958, "covers": [],
        "subjects": ["Kyrgyzstan", "Love stories"], "google_categories": ["Fiction / Romance / General"],
        "description": "A love story set in a Kyrgyz village during the Second World War.",
        "editions": [
            # fake ISBN: the Telegram Books edition's real ISBN was not at hand offline
            ed("9781846590061", "1846590061", "Paperback", "Telegram Books", "2007", pages=96,
               ol_key="OL22100001M", google_id="FakeJamGB01", sources="goi"),
        ],
    },
    {
        "key": "OL5770161W", "title": "The Crocodile", "authors": ["OL1102343A"],
        "first_publish_year": 1970, "covers": [],
        "subjects": ["Papua New Guinea", "Fiction"], "google_categories": [],
        "description": None,
        "editions": [
            # fake ISBN-13 form of the 1973 Penguin edition
            ed("9780140029475", "0140029478", "Paperback", "Penguin", "1973", pages=175,
               ol_key="OL5312001M", sources="oi"),
        ],
    },
]

# ISO 639-1 -> OpenLibrary / MARC language code
OL_LANGUAGES = {"en": "eng", "fr": "fre", "es": "spa", "ja": "jpn", "de": "ger"}

# ISBNdb binding -> OpenLibrary physical_format
OL_FORMATS = {"Mass Market Paperback": "Mass Market Paperback", "Paperback": "Paperback",
              "Hardcover": "Hardcover", "Kindle Edition": "E-book", "Audio CD": "Audio CD"}
