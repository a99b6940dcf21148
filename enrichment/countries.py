"""Country table: Wikidata QID or name -> nationality (demonym) and the contract's culturalRegion.

Pure data plus two lookups. Every current sovereign state is here (the 193 UN members, the two UN
observer states Vatican City and Palestine, plus Taiwan and Kosovo), the UK's four nations, and the
historical states that show up as authors' citizenship on Wikidata. Anything not in the table maps to
nothing: a region is never guessed.

Region decisions (CONTRACT section 3 enum; only the country-level values are ever produced here,
`Indigenous` and `International` are author-level judgements this table cannot make):

- Caribbean: the island states plus the mainland CARICOM members Belize, Guyana and Suriname, whose
  writers (Wilson Harris, Zee Edgell, Cynthia McLeod) are read and taught as Caribbean literature.
- Central Asia: the five former Soviet "-stans", plus Afghanistan and Mongolia, following UNESCO's
  definition of Central Asia (History of Civilizations of Central Asia); Afghan (Dari/Pashto) letters
  share the Persianate tradition of Tajikistan and Uzbekistan more than the South Asian one.
- Middle East: the conventional "Middle East" list: Gulf states, Iran, Iraq, Israel, Palestine,
  Jordan, Lebanon, Syria, Turkey, Yemen and Egypt (Cairo is the Arab world's publishing capital; Mahfouz
  is read as a Middle Eastern novelist). The Maghreb and Sudan stay Africa; Cyprus (EU member) is
  Europe. The Ottoman Empire and Mandatory Palestine are Middle East.
- Europe: includes Russia and the South Caucasus (Georgia, Armenia, Azerbaijan: Council of Europe
  members whose modern literature grew within the Russian/Soviet sphere) and the Soviet Union.
- North America: the US, Canada, Mexico and the Central American republics except Belize.
- Oceania: Australia, New Zealand and the Pacific states, including Papua New Guinea (the previous
  system put it in Africa).
- Asia: South, South-East and East Asia (incl. Timor-Leste, Taiwan, the British Raj).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from search.text import fold

# Values of the contract's culturalRegion enum; the one list of them is `search.dto.CULTURAL_REGIONS`.
AFRICA: Final = "Africa"
ASIA: Final = "Asia"
EUROPE: Final = "Europe"
NORTH_AMERICA: Final = "North America"
SOUTH_AMERICA: Final = "South America"
OCEANIA: Final = "Oceania"
MIDDLE_EAST: Final = "Middle East"
CARIBBEAN: Final = "Caribbean"
CENTRAL_ASIA: Final = "Central Asia"
INDIGENOUS: Final = "Indigenous"
INTERNATIONAL: Final = "International"


@dataclass(frozen=True, slots=True)
class Country:
    """One state as an author's citizenship: its label, demonym and cultural region."""

    qids: tuple[str, ...]
    name: str
    nationality: str
    cultural_region: str
    aliases: tuple[str, ...] = ()
    historical: bool = False


def _c(qids: str, name: str, nationality: str, region: str, *aliases: str, historical: bool = False) -> Country:
    return Country(tuple(qids.split()), name, nationality, region, tuple(aliases), historical)


# fmt: off
SOVEREIGN_STATES: Final[tuple[Country, ...]] = (
    # --- Africa ---------------------------------------------------------------------------------
    _c("Q262", "Algeria", "Algerian", AFRICA),
    _c("Q916", "Angola", "Angolan", AFRICA),
    _c("Q962", "Benin", "Beninese", AFRICA, "Dahomey"),
    _c("Q963", "Botswana", "Motswana", AFRICA),
    _c("Q965", "Burkina Faso", "Burkinabe", AFRICA, "Upper Volta"),
    _c("Q967", "Burundi", "Burundian", AFRICA),
    _c("Q1009", "Cameroon", "Cameroonian", AFRICA),
    _c("Q1011", "Cape Verde", "Cape Verdean", AFRICA, "Cabo Verde"),
    _c("Q929", "Central African Republic", "Central African", AFRICA),
    _c("Q657", "Chad", "Chadian", AFRICA),
    _c("Q970", "Comoros", "Comorian", AFRICA),
    _c("Q971", "Republic of the Congo", "Congolese", AFRICA, "Congo-Brazzaville", "Congo Republic"),
    _c("Q974", "Democratic Republic of the Congo", "Congolese", AFRICA,
       "DR Congo", "DRC", "Congo-Kinshasa", "Zaire"),
    _c("Q1008", "Ivory Coast", "Ivorian", AFRICA, "Côte d'Ivoire", "Cote d'Ivoire"),
    _c("Q977", "Djibouti", "Djiboutian", AFRICA),
    _c("Q983", "Equatorial Guinea", "Equatorial Guinean", AFRICA),
    _c("Q986", "Eritrea", "Eritrean", AFRICA),
    _c("Q1050", "Eswatini", "Swazi", AFRICA, "Swaziland"),
    _c("Q115", "Ethiopia", "Ethiopian", AFRICA),
    _c("Q1000", "Gabon", "Gabonese", AFRICA),
    _c("Q1005", "The Gambia", "Gambian", AFRICA, "Gambia"),
    _c("Q117", "Ghana", "Ghanaian", AFRICA, "Gold Coast"),
    _c("Q1006", "Guinea", "Guinean", AFRICA),
    _c("Q1007", "Guinea-Bissau", "Bissau-Guinean", AFRICA),
    _c("Q114", "Kenya", "Kenyan", AFRICA),
    _c("Q1013", "Lesotho", "Basotho", AFRICA),
    _c("Q1014", "Liberia", "Liberian", AFRICA),
    _c("Q1016", "Libya", "Libyan", AFRICA),
    _c("Q1019", "Madagascar", "Malagasy", AFRICA),
    _c("Q1020", "Malawi", "Malawian", AFRICA),
    _c("Q912", "Mali", "Malian", AFRICA),
    _c("Q1025", "Mauritania", "Mauritanian", AFRICA),
    _c("Q1027", "Mauritius", "Mauritian", AFRICA),
    _c("Q1028", "Morocco", "Moroccan", AFRICA),
    _c("Q1029", "Mozambique", "Mozambican", AFRICA),
    _c("Q1030", "Namibia", "Namibian", AFRICA),
    _c("Q1032", "Niger", "Nigerien", AFRICA),
    _c("Q1033", "Nigeria", "Nigerian", AFRICA),
    _c("Q1037", "Rwanda", "Rwandan", AFRICA),
    _c("Q1039", "São Tomé and Príncipe", "Santomean", AFRICA, "Sao Tome and Principe"),
    _c("Q1041", "Senegal", "Senegalese", AFRICA),
    _c("Q1042", "Seychelles", "Seychellois", AFRICA),
    _c("Q1044", "Sierra Leone", "Sierra Leonean", AFRICA),
    _c("Q1045", "Somalia", "Somali", AFRICA),
    _c("Q258", "South Africa", "South African", AFRICA, "Republic of South Africa", "RSA"),
    _c("Q958", "South Sudan", "South Sudanese", AFRICA),
    _c("Q1049", "Sudan", "Sudanese", AFRICA),
    _c("Q924", "Tanzania", "Tanzanian", AFRICA, "United Republic of Tanzania"),
    _c("Q945", "Togo", "Togolese", AFRICA),
    _c("Q948", "Tunisia", "Tunisian", AFRICA),
    _c("Q1036", "Uganda", "Ugandan", AFRICA),
    _c("Q953", "Zambia", "Zambian", AFRICA),
    _c("Q954", "Zimbabwe", "Zimbabwean", AFRICA),
    # --- Middle East ------------------------------------------------------------------------------
    _c("Q398", "Bahrain", "Bahraini", MIDDLE_EAST),
    _c("Q79", "Egypt", "Egyptian", MIDDLE_EAST, "Arab Republic of Egypt"),
    _c("Q794", "Iran", "Iranian", MIDDLE_EAST, "Persia", "Islamic Republic of Iran"),
    _c("Q796", "Iraq", "Iraqi", MIDDLE_EAST),
    _c("Q801", "Israel", "Israeli", MIDDLE_EAST, "State of Israel"),
    _c("Q810", "Jordan", "Jordanian", MIDDLE_EAST),
    _c("Q817", "Kuwait", "Kuwaiti", MIDDLE_EAST),
    _c("Q822", "Lebanon", "Lebanese", MIDDLE_EAST),
    _c("Q842", "Oman", "Omani", MIDDLE_EAST),
    _c("Q219060", "Palestine", "Palestinian", MIDDLE_EAST, "State of Palestine"),
    _c("Q846", "Qatar", "Qatari", MIDDLE_EAST),
    _c("Q851", "Saudi Arabia", "Saudi", MIDDLE_EAST),
    _c("Q858", "Syria", "Syrian", MIDDLE_EAST, "Syrian Arab Republic"),
    _c("Q43", "Turkey", "Turkish", MIDDLE_EAST, "Türkiye", "Turkiye", "Republic of Turkey"),
    _c("Q878", "United Arab Emirates", "Emirati", MIDDLE_EAST, "UAE"),
    _c("Q805", "Yemen", "Yemeni", MIDDLE_EAST),
    # --- Central Asia -----------------------------------------------------------------------------
    _c("Q889", "Afghanistan", "Afghan", CENTRAL_ASIA),
    _c("Q232", "Kazakhstan", "Kazakh", CENTRAL_ASIA),
    _c("Q813", "Kyrgyzstan", "Kyrgyz", CENTRAL_ASIA, "Kyrgyz Republic", "Kirghizia"),
    _c("Q711", "Mongolia", "Mongolian", CENTRAL_ASIA),
    _c("Q863", "Tajikistan", "Tajik", CENTRAL_ASIA),
    _c("Q874", "Turkmenistan", "Turkmen", CENTRAL_ASIA),
    _c("Q265", "Uzbekistan", "Uzbek", CENTRAL_ASIA),
    # --- Asia -------------------------------------------------------------------------------------
    _c("Q902", "Bangladesh", "Bangladeshi", ASIA),
    _c("Q917", "Bhutan", "Bhutanese", ASIA),
    _c("Q921", "Brunei", "Bruneian", ASIA, "Brunei Darussalam"),
    _c("Q424", "Cambodia", "Cambodian", ASIA),
    _c("Q148", "China", "Chinese", ASIA, "People's Republic of China", "PRC", "Mainland China"),
    _c("Q668", "India", "Indian", ASIA, "Republic of India"),
    _c("Q252", "Indonesia", "Indonesian", ASIA),
    _c("Q17", "Japan", "Japanese", ASIA),
    _c("Q819", "Laos", "Lao", ASIA, "Lao People's Democratic Republic"),
    _c("Q833", "Malaysia", "Malaysian", ASIA),
    _c("Q826", "Maldives", "Maldivian", ASIA),
    _c("Q836", "Myanmar", "Burmese", ASIA, "Burma"),
    _c("Q837", "Nepal", "Nepali", ASIA),
    _c("Q423", "North Korea", "North Korean", ASIA,
       "Democratic People's Republic of Korea", "DPRK"),
    _c("Q843", "Pakistan", "Pakistani", ASIA),
    _c("Q928", "Philippines", "Filipino", ASIA, "The Philippines"),
    _c("Q334", "Singapore", "Singaporean", ASIA),
    _c("Q884", "South Korea", "South Korean", ASIA, "Republic of Korea"),
    _c("Q854", "Sri Lanka", "Sri Lankan", ASIA, "Ceylon"),
    _c("Q865", "Taiwan", "Taiwanese", ASIA, "Republic of China"),
    _c("Q869", "Thailand", "Thai", ASIA, "Siam"),
    _c("Q574", "Timor-Leste", "Timorese", ASIA, "East Timor"),
    _c("Q881", "Vietnam", "Vietnamese", ASIA, "Viet Nam"),
    # --- Europe -----------------------------------------------------------------------------------
    _c("Q222", "Albania", "Albanian", EUROPE),
    _c("Q228", "Andorra", "Andorran", EUROPE),
    _c("Q399", "Armenia", "Armenian", EUROPE),
    _c("Q40", "Austria", "Austrian", EUROPE),
    _c("Q227", "Azerbaijan", "Azerbaijani", EUROPE),
    _c("Q184", "Belarus", "Belarusian", EUROPE),
    _c("Q31", "Belgium", "Belgian", EUROPE),
    _c("Q225", "Bosnia and Herzegovina", "Bosnian", EUROPE, "Bosnia"),
    _c("Q219", "Bulgaria", "Bulgarian", EUROPE),
    _c("Q224", "Croatia", "Croatian", EUROPE),
    _c("Q229", "Cyprus", "Cypriot", EUROPE),
    _c("Q213", "Czech Republic", "Czech", EUROPE, "Czechia"),
    _c("Q35", "Denmark", "Danish", EUROPE),
    _c("Q191", "Estonia", "Estonian", EUROPE),
    _c("Q33", "Finland", "Finnish", EUROPE),
    _c("Q142", "France", "French", EUROPE, "French Republic"),
    _c("Q230", "Georgia", "Georgian", EUROPE),
    _c("Q183", "Germany", "German", EUROPE, "Federal Republic of Germany"),
    _c("Q41", "Greece", "Greek", EUROPE, "Hellenic Republic"),
    _c("Q28", "Hungary", "Hungarian", EUROPE),
    _c("Q189", "Iceland", "Icelandic", EUROPE),
    _c("Q27", "Ireland", "Irish", EUROPE, "Republic of Ireland", "Éire", "Eire"),
    _c("Q38", "Italy", "Italian", EUROPE, "Italian Republic"),
    _c("Q1246", "Kosovo", "Kosovar", EUROPE),
    _c("Q211", "Latvia", "Latvian", EUROPE),
    _c("Q347", "Liechtenstein", "Liechtensteiner", EUROPE),
    _c("Q37", "Lithuania", "Lithuanian", EUROPE),
    _c("Q32", "Luxembourg", "Luxembourgish", EUROPE),
    _c("Q233", "Malta", "Maltese", EUROPE),
    _c("Q217", "Moldova", "Moldovan", EUROPE, "Republic of Moldova"),
    _c("Q235", "Monaco", "Monégasque", EUROPE),
    _c("Q236", "Montenegro", "Montenegrin", EUROPE),
    # Wikidata uses both the constituent country (Q55) and the Kingdom (Q29999) for citizenship.
    _c("Q55 Q29999", "Netherlands", "Dutch", EUROPE, "Kingdom of the Netherlands", "Holland"),
    _c("Q221", "North Macedonia", "Macedonian", EUROPE, "Macedonia", "Republic of Macedonia"),
    _c("Q20", "Norway", "Norwegian", EUROPE),
    _c("Q36", "Poland", "Polish", EUROPE),
    _c("Q45", "Portugal", "Portuguese", EUROPE),
    _c("Q218", "Romania", "Romanian", EUROPE),
    _c("Q159", "Russia", "Russian", EUROPE, "Russian Federation"),
    _c("Q238", "San Marino", "Sammarinese", EUROPE),
    _c("Q403", "Serbia", "Serbian", EUROPE),
    _c("Q214", "Slovakia", "Slovak", EUROPE),
    _c("Q215", "Slovenia", "Slovenian", EUROPE),
    _c("Q29", "Spain", "Spanish", EUROPE, "Kingdom of Spain"),
    _c("Q34", "Sweden", "Swedish", EUROPE),
    _c("Q39", "Switzerland", "Swiss", EUROPE),
    _c("Q212", "Ukraine", "Ukrainian", EUROPE),
    _c("Q145", "United Kingdom", "British", EUROPE,
       "UK", "U.K.", "Great Britain", "Britain",
       "United Kingdom of Great Britain and Northern Ireland"),
    _c("Q237", "Vatican City", "Vatican", EUROPE, "Holy See", "Vatican"),
    # --- North America ----------------------------------------------------------------------------
    _c("Q16", "Canada", "Canadian", NORTH_AMERICA),
    _c("Q800", "Costa Rica", "Costa Rican", NORTH_AMERICA),
    _c("Q792", "El Salvador", "Salvadoran", NORTH_AMERICA),
    _c("Q774", "Guatemala", "Guatemalan", NORTH_AMERICA),
    _c("Q783", "Honduras", "Honduran", NORTH_AMERICA),
    _c("Q96", "Mexico", "Mexican", NORTH_AMERICA),
    _c("Q811", "Nicaragua", "Nicaraguan", NORTH_AMERICA),
    _c("Q804", "Panama", "Panamanian", NORTH_AMERICA),
    _c("Q30", "United States", "American", NORTH_AMERICA,
       "United States of America", "USA", "U.S.A.", "US", "U.S."),
    # --- Caribbean --------------------------------------------------------------------------------
    _c("Q781", "Antigua and Barbuda", "Antiguan", CARIBBEAN),
    _c("Q778", "The Bahamas", "Bahamian", CARIBBEAN, "Bahamas"),
    _c("Q244", "Barbados", "Barbadian", CARIBBEAN),
    _c("Q242", "Belize", "Belizean", CARIBBEAN, "British Honduras"),
    _c("Q241", "Cuba", "Cuban", CARIBBEAN),
    _c("Q784", "Dominica", "Dominican", CARIBBEAN),
    _c("Q786", "Dominican Republic", "Dominican", CARIBBEAN),
    _c("Q769", "Grenada", "Grenadian", CARIBBEAN),
    _c("Q734", "Guyana", "Guyanese", CARIBBEAN, "British Guiana"),
    _c("Q790", "Haiti", "Haitian", CARIBBEAN),
    _c("Q766", "Jamaica", "Jamaican", CARIBBEAN),
    _c("Q763", "Saint Kitts and Nevis", "Kittitian", CARIBBEAN, "St Kitts and Nevis"),
    _c("Q760", "Saint Lucia", "Saint Lucian", CARIBBEAN, "St Lucia"),
    _c("Q757", "Saint Vincent and the Grenadines", "Vincentian", CARIBBEAN,
       "Saint Vincent", "St Vincent and the Grenadines"),
    _c("Q730", "Suriname", "Surinamese", CARIBBEAN, "Surinam"),
    _c("Q754", "Trinidad and Tobago", "Trinidadian", CARIBBEAN, "Trinidad"),
    # --- South America ----------------------------------------------------------------------------
    _c("Q414", "Argentina", "Argentine", SOUTH_AMERICA),
    _c("Q750", "Bolivia", "Bolivian", SOUTH_AMERICA),
    _c("Q155", "Brazil", "Brazilian", SOUTH_AMERICA),
    _c("Q298", "Chile", "Chilean", SOUTH_AMERICA),
    _c("Q739", "Colombia", "Colombian", SOUTH_AMERICA),
    _c("Q736", "Ecuador", "Ecuadorian", SOUTH_AMERICA),
    _c("Q733", "Paraguay", "Paraguayan", SOUTH_AMERICA),
    _c("Q419", "Peru", "Peruvian", SOUTH_AMERICA),
    _c("Q77", "Uruguay", "Uruguayan", SOUTH_AMERICA),
    _c("Q717", "Venezuela", "Venezuelan", SOUTH_AMERICA),
    # --- Oceania ----------------------------------------------------------------------------------
    _c("Q408", "Australia", "Australian", OCEANIA, "Commonwealth of Australia"),
    _c("Q712", "Fiji", "Fijian", OCEANIA),
    _c("Q710", "Kiribati", "I-Kiribati", OCEANIA),
    _c("Q709", "Marshall Islands", "Marshallese", OCEANIA),
    _c("Q702", "Federated States of Micronesia", "Micronesian", OCEANIA, "Micronesia"),
    _c("Q697", "Nauru", "Nauruan", OCEANIA),
    _c("Q664", "New Zealand", "New Zealander", OCEANIA, "Aotearoa"),
    _c("Q695", "Palau", "Palauan", OCEANIA),
    _c("Q691", "Papua New Guinea", "Papua New Guinean", OCEANIA, "PNG"),
    _c("Q683", "Samoa", "Samoan", OCEANIA, "Western Samoa"),
    _c("Q685", "Solomon Islands", "Solomon Islander", OCEANIA),
    _c("Q678", "Tonga", "Tongan", OCEANIA),
    _c("Q672", "Tuvalu", "Tuvaluan", OCEANIA),
    _c("Q686", "Vanuatu", "Ni-Vanuatu", OCEANIA),
)

UK_NATIONS: Final[tuple[Country, ...]] = (
    _c("Q21", "England", "English", EUROPE),
    _c("Q22", "Scotland", "Scottish", EUROPE),
    _c("Q25", "Wales", "Welsh", EUROPE, "Cymru"),
    _c("Q26", "Northern Ireland", "Northern Irish", EUROPE),
)

# Historical states that Wikidata gives as citizenship for many authors. The demonym is the one an
# English-language reader would use for that author ("Soviet" for Bulgakov's citizenship).
HISTORICAL_STATES: Final[tuple[Country, ...]] = (
    _c("Q15180", "Soviet Union", "Soviet", EUROPE, "USSR", "U.S.S.R.",
       "Union of Soviet Socialist Republics", historical=True),
    _c("Q34266", "Russian Empire", "Russian", EUROPE, historical=True),
    _c("Q186096", "Tsardom of Russia", "Russian", EUROPE, historical=True),
    _c("Q83286", "Socialist Federal Republic of Yugoslavia", "Yugoslav", EUROPE,
       "Yugoslavia", "SFR Yugoslavia", historical=True),
    _c("Q191077", "Kingdom of Yugoslavia", "Yugoslav", EUROPE, historical=True),
    _c("Q838261", "Federal Republic of Yugoslavia", "Yugoslav", EUROPE, historical=True),
    _c("Q37024", "Serbia and Montenegro", "Serbian", EUROPE, historical=True),
    _c("Q33946", "Czechoslovakia", "Czechoslovak", EUROPE, historical=True),
    _c("Q16957", "East Germany", "East German", EUROPE,
       "German Democratic Republic", "GDR", historical=True),
    _c("Q713750", "West Germany", "West German", EUROPE, historical=True),
    _c("Q43287", "German Empire", "German", EUROPE, historical=True),
    _c("Q41304", "Weimar Republic", "German", EUROPE, historical=True),
    _c("Q7318", "Nazi Germany", "German", EUROPE, historical=True),
    _c("Q27306", "Kingdom of Prussia", "Prussian", EUROPE, historical=True),
    _c("Q154195", "Kingdom of Bavaria", "Bavarian", EUROPE, historical=True),
    _c("Q28513", "Austria-Hungary", "Austro-Hungarian", EUROPE, historical=True),
    _c("Q131964", "Austrian Empire", "Austrian", EUROPE, historical=True),
    _c("Q171150", "Kingdom of Hungary", "Hungarian", EUROPE, historical=True),
    _c("Q12548", "Holy Roman Empire", "German", EUROPE, historical=True),
    _c("Q172579", "Kingdom of Italy", "Italian", EUROPE, historical=True),
    _c("Q70972", "Kingdom of France", "French", EUROPE, historical=True),
    _c("Q45670", "Kingdom of Portugal", "Portuguese", EUROPE, historical=True),
    _c("Q207272", "Second Polish Republic", "Polish", EUROPE, historical=True),
    _c("Q172107", "Polish–Lithuanian Commonwealth", "Polish", EUROPE,
       "Polish-Lithuanian Commonwealth", historical=True),
    _c("Q203493", "Kingdom of Romania", "Romanian", EUROPE, historical=True),
    _c("Q31747", "Irish Free State", "Irish", EUROPE, historical=True),
    _c("Q215530", "Kingdom of Ireland", "Irish", EUROPE, historical=True),
    _c("Q161885", "Kingdom of Great Britain", "British", EUROPE, historical=True),
    _c("Q174193", "United Kingdom of Great Britain and Ireland", "British", EUROPE,
       historical=True),
    _c("Q179876", "Kingdom of England", "English", EUROPE, historical=True),
    _c("Q230791", "Kingdom of Scotland", "Scottish", EUROPE, historical=True),
    _c("Q12544", "Byzantine Empire", "Byzantine", EUROPE, historical=True),
    _c("Q2277", "Roman Empire", "Roman", EUROPE, historical=True),
    _c("Q17167", "Roman Republic", "Roman", EUROPE, historical=True),
    _c("Q1747689", "Ancient Rome", "Roman", EUROPE, historical=True),
    _c("Q11772", "Ancient Greece", "Greek", EUROPE, historical=True),
    _c("Q1524", "Classical Athens", "Athenian", EUROPE, historical=True),
    _c("Q12560", "Ottoman Empire", "Ottoman", MIDDLE_EAST, historical=True),
    _c("Q193714", "Mandatory Palestine", "Palestinian", MIDDLE_EAST,
       "British Mandate for Palestine", historical=True),
    _c("Q129286", "British Raj", "Indian", ASIA, "British India", historical=True),
    _c("Q8733", "Qing dynasty", "Chinese", ASIA, "Qing China", historical=True),
    _c("Q13426199", "Republic of China (1912–1949)", "Chinese", ASIA,
       "Republic of China (1912-1949)", historical=True),
    _c("Q188712", "Empire of Japan", "Japanese", ASIA, historical=True),
    _c("Q193619", "Union of South Africa", "South African", AFRICA, historical=True),
    _c("Q217169", "Rhodesia", "Rhodesian", AFRICA, historical=True),
)
# fmt: on

ALL_COUNTRIES: Final[tuple[Country, ...]] = SOVEREIGN_STATES + UK_NATIONS + HISTORICAL_STATES


def normalize_country_name(name: str) -> str:
    """Casefolded, accent-free, space- and punctuation-free name key ("U.S.A." -> "usa")."""
    text = fold(name).replace("&", " and ")
    text = re.sub(r"[.'’`]", "", text)
    text = re.sub(r"[^0-9a-z]+", " ", text).strip()
    text = re.sub(r"^the ", "", text)
    return re.sub(r"\bsaint\b", "st", text).replace(" ", "")


def _build_indexes() -> tuple[dict[str, Country], dict[str, Country]]:
    by_qid: dict[str, Country] = {}
    by_name: dict[str, Country] = {}
    for country in ALL_COUNTRIES:
        for qid in country.qids:
            if qid in by_qid:
                raise ValueError(f"duplicate country QID {qid}")
            by_qid[qid] = country
        for label in (country.name, *country.aliases):
            key = normalize_country_name(label)
            # Current states win a name clash over historical ones ("Yugoslavia" is only historical).
            if key in by_name and not by_name[key].historical:
                continue
            by_name[key] = country
    return by_qid, by_name


_BY_QID, _BY_NAME = _build_indexes()


def country_by_qid(qid: str | None) -> Country | None:
    """The country for a Wikidata item id ("Q145"), or None when it is not in the table."""
    if not qid:
        return None
    return _BY_QID.get(qid.strip().upper())


def country_by_name(name: str | None) -> Country | None:
    """The country for a label or alias ("UK", "United States of America", "Côte d'Ivoire")."""
    if not name:
        return None
    return _BY_NAME.get(normalize_country_name(name))
