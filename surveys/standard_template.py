"""The standard safety survey (blocks A–H of docs/domain.md) in Swedish,
English and Finnish, with stable keys so that years and municipalities
compare. `services.survey_apply_template` copies it into a survey.

The NTU headline measure is computed from `trygghet_ute_kvall`; see
`surveys.results.ntu_headline` for its definition.
"""

# --- answer scales -------------------------------------------------------


def _c(key, sv, en, fi, **extra):
    return {"key": key, "texts": {"sv": sv, "en": en, "fi": fi}, **extra}


DONT_KNOW = _c("vet_ej", "Vet ej", "Don't know", "En osaa sanoa")
NO_ANSWER = _c("vill_inte_svara", "Vill inte svara", "Prefer not to say", "En halua vastata")

SAFE_5 = [
    _c("mycket_trygg", "Mycket trygg", "Very safe", "Hyvin turvalliseksi"),
    _c("ganska_trygg", "Ganska trygg", "Fairly safe", "Melko turvalliseksi"),
    _c("ganska_otrygg", "Ganska otrygg", "Fairly unsafe", "Melko turvattomaksi"),
    _c("mycket_otrygg", "Mycket otrygg", "Very unsafe", "Hyvin turvattomaksi"),
]
SAFE_OUT = [
    *SAFE_5,
    _c(
        "gar_inte_ut_otrygghet",
        "Går inte ut ensam sent, på grund av otrygghet",
        "I do not go out alone late, because I feel unsafe",
        "En liiku yksin myöhään turvattomuuden vuoksi",
    ),
    _c(
        "gar_inte_ut_andra_skal",
        "Går inte ut ensam sent, av andra skäl",
        "I do not go out alone late, for other reasons",
        "En liiku yksin myöhään muista syistä",
    ),
    DONT_KNOW,
]
WORRY = [
    _c("aldrig", "Aldrig", "Never", "En koskaan"),
    _c("sallan", "Sällan", "Rarely", "Harvoin"),
    _c("ibland", "Ibland", "Sometimes", "Joskus"),
    _c("ofta", "Ofta", "Often", "Usein"),
    _c("mycket_ofta", "Mycket ofta", "Very often", "Hyvin usein"),
]
COMMON = [
    _c("inte_alls_vanligt", "Inte alls vanligt", "Not at all common", "Ei lainkaan yleistä"),
    _c("inte_sarskilt_vanligt", "Inte särskilt vanligt", "Not very common", "Ei kovin yleistä"),
    _c("ganska_vanligt", "Ganska vanligt", "Fairly common", "Melko yleistä"),
    _c("valdigt_vanligt", "Väldigt vanligt", "Very common", "Hyvin yleistä"),
    DONT_KNOW,
]
YES_NO = [_c("ja", "Ja", "Yes", "Kyllä"), _c("nej", "Nej", "No", "Ei")]
AGREE = [
    _c("instammer_helt", "Instämmer helt", "Strongly agree", "Täysin samaa mieltä"),
    _c("instammer_delvis", "Instämmer delvis", "Partly agree", "Osittain samaa mieltä"),
    _c("tar_delvis_avstand", "Tar delvis avstånd", "Partly disagree", "Osittain eri mieltä"),
    _c("tar_helt_avstand", "Tar helt avstånd", "Strongly disagree", "Täysin eri mieltä"),
    DONT_KNOW,
]


def _q(key, kind, sv, en, fi, choices=(), required=False, group=None):
    return {
        "key": key,
        "kind": kind,
        "texts": {"sv": sv, "en": en, "fi": fi},
        "choices": list(choices),
        "required": required,
        "group": group,
    }


def _items(group, kind_choices, items):
    return [_q(key, "single", sv, en, fi, kind_choices, group=group) for key, sv, en, fi in items]


GROUPS = {
    "oro": {
        "sv": "Hur ofta har du under de senaste 12 månaderna känt oro för att utsättas för …",
        "en": "In the last 12 months, how often have you worried about being subjected to …",
        "fi": "Kuinka usein olet viimeisten 12 kuukauden aikana ollut huolissasi seuraavista?",
    },
    "problem": {
        "sv": "Hur vanligt är följande i ditt bostadsområde?",
        "en": "How common are the following in your residential area?",
        "fi": "Kuinka yleisiä seuraavat ovat asuinalueellasi?",
    },
    "utsatt": {
        "sv": "Har du under de senaste 12 månaderna utsatts för något av följande?",
        "en": "In the last 12 months, have you been subjected to any of the following?",
        "fi": "Oletko viimeisten 12 kuukauden aikana joutunut jonkin seuraavista kohteeksi?",
    },
    "fortroende": {
        "sv": "Hur väl stämmer följande påståenden?",
        "en": "How well do the following statements fit?",
        "fi": "Kuinka hyvin seuraavat väittämät pitävät paikkansa?",
    },
}

# The district question's choices come from the municipality's districts.
DISTRICT_QUESTION = "omrade"

SECTIONS = [
    {
        "key": "a_trygghet",
        "texts": {"sv": "Trygghet", "en": "Safety", "fi": "Turvallisuus"},
        "questions": [
            _q(
                "trygghet_ute_kvall",
                "single",
                "Hur trygg eller otrygg känner du dig om du går ut ensam sent en kväll i ditt bostadsområde?",
                "How safe or unsafe do you feel if you go out alone late in the evening in your residential area?",
                "Kuinka turvalliseksi tai turvattomaksi tunnet olosi, jos liikut yksin myöhään illalla asuinalueellasi?",
                SAFE_OUT,
                required=True,
            ),
            _q(
                "trygghet_hemmet",
                "single",
                "Hur trygg eller otrygg känner du dig i ditt hem?",
                "How safe or unsafe do you feel in your home?",
                "Kuinka turvalliseksi tai turvattomaksi tunnet olosi kotonasi?",
                [*SAFE_5, DONT_KNOW],
            ),
            _q(
                "trygghet_kommunen",
                "single",
                "Hur trygg eller otrygg känner du dig i kommunen i stort?",
                "How safe or unsafe do you feel in the municipality as a whole?",
                "Kuinka turvalliseksi tai turvattomaksi tunnet olosi kunnassa yleisesti?",
                [*SAFE_5, DONT_KNOW],
            ),
            _q(
                "avstar_ga_ut",
                "single",
                "Händer det att du avstår från att gå ut ensam av rädsla att bli överfallen, rånad eller på annat sätt ofredad?",
                "Do you ever refrain from going out alone for fear of being attacked, robbed or otherwise harassed?",
                "Jätätkö joskus menemättä ulos yksin, koska pelkäät joutuvasi pahoinpidellyksi, ryöstetyksi tai muuten ahdistelluksi?",
                [
                    _c("nej", "Nej", "No", "En"),
                    _c("ja_ibland", "Ja, ibland", "Yes, sometimes", "Kyllä, joskus"),
                    _c("ja_ofta", "Ja, ofta", "Yes, often", "Kyllä, usein"),
                ],
            ),
        ],
    },
    {
        "key": "b_platser",
        "texts": {"sv": "Platser", "en": "Places", "fi": "Paikat"},
        "questions": [
            _q(
                "undviker_platser",
                "single",
                "Finns det platser i kommunen som du undviker för att de känns otrygga?",
                "Are there places in the municipality that you avoid because they feel unsafe?",
                "Onko kunnassa paikkoja, joita vältät, koska ne tuntuvat turvattomilta?",
                [
                    _c("nej", "Nej", "No", "Ei"),
                    _c("ja_en_plats", "Ja, en plats", "Yes, one place", "Kyllä, yksi paikka"),
                    _c(
                        "ja_flera_platser",
                        "Ja, flera platser",
                        "Yes, several places",
                        "Kyllä, useita paikkoja",
                    ),
                ],
            ),
            _q(
                "otrygg_plats",
                "place",
                "Vilken plats känns otrygg? Välj område och beskriv platsen.",
                "Which place feels unsafe? Choose the area and describe the place.",
                "Mikä paikka tuntuu turvattomalta? Valitse alue ja kuvaile paikka.",
            ),
            _q(
                "otrygg_plats_varfor",
                "multiple",
                "Varför känns platsen otrygg?",
                "Why does the place feel unsafe?",
                "Miksi paikka tuntuu turvattomalta?",
                [
                    _c("dalig_belysning", "Dålig belysning", "Poor lighting", "Huono valaistus"),
                    _c(
                        "odsligt",
                        "Ödsligt, få människor i rörelse",
                        "Deserted, few people around",
                        "Autio, vähän ihmisiä liikkeellä",
                    ),
                    _c(
                        "personer_som_stor",
                        "Personer som stör",
                        "People causing disturbance",
                        "Häiritseviä ihmisiä",
                    ),
                    _c(
                        "tidigare_handelse",
                        "Något har hänt mig eller någon jag känner där",
                        "Something has happened there to me or someone I know",
                        "Minulle tai tuttavalleni on sattunut siellä jotain",
                    ),
                    _c(
                        "annat",
                        "Annat, nämligen …",
                        "Other, namely …",
                        "Muu, mikä …",
                        allows_text=True,
                    ),
                ],
            ),
        ],
    },
    {
        "key": "c_oro",
        "texts": {"sv": "Oro för brott", "en": "Worry about crime", "fi": "Huoli rikoksista"},
        "questions": _items(
            "oro",
            WORRY,
            [
                ("oro_bostadsinbrott", "bostadsinbrott", "burglary in your home", "asuntomurto"),
                (
                    "oro_misshandel",
                    "misshandel eller överfall",
                    "assault or attack",
                    "pahoinpitely tai päällekarkaus",
                ),
                ("oro_ran", "rån", "robbery", "ryöstö"),
                (
                    "oro_bil",
                    "stöld av eller ur bil",
                    "theft of or from a car",
                    "auton tai autosta tapahtuva varkaus",
                ),
                ("oro_skadegorelse", "skadegörelse", "vandalism", "ilkivalta"),
                ("oro_sexualbrott", "sexualbrott", "sexual offences", "seksuaalirikos"),
                ("oro_bedrageri", "bedrägeri", "fraud", "petos"),
                (
                    "oro_narstaende",
                    "att en närstående ska drabbas",
                    "someone close to you being affected",
                    "läheisesi joutuminen rikoksen uhriksi",
                ),
            ],
        ),
    },
    {
        "key": "d_problem",
        "texts": {
            "sv": "Problem i bostadsområdet",
            "en": "Problems in your residential area",
            "fi": "Ongelmat asuinalueellasi",
        },
        "questions": _items(
            "problem",
            COMMON,
            [
                ("problem_nedskrapning", "nedskräpning", "littering", "roskaaminen"),
                ("problem_skadegorelse", "skadegörelse", "vandalism", "ilkivalta"),
                ("problem_klotter", "klotter", "graffiti", "töhryt"),
                (
                    "problem_ungdomar",
                    "ungdomar som stör ordningen",
                    "young people disturbing public order",
                    "järjestystä häiritsevät nuoret",
                ),
                (
                    "problem_berusade",
                    "berusade personer på offentlig plats",
                    "drunk people in public places",
                    "päihtyneet ihmiset julkisilla paikoilla",
                ),
                ("problem_narkotika", "narkotikaförsäljning", "drug dealing", "huumekauppa"),
                ("problem_inbrott", "inbrott", "burglaries", "murrot"),
                ("problem_bilstolder", "bilstölder", "car thefts", "autovarkaudet"),
                ("problem_cykelstolder", "cykelstölder", "bicycle thefts", "polkupyörävarkaudet"),
                ("problem_buskorning", "buskörning", "reckless driving", "holtiton ajaminen"),
                ("problem_trafik", "trafikproblem", "traffic problems", "liikenneongelmat"),
                ("problem_belysning", "dålig belysning", "poor lighting", "huono valaistus"),
            ],
        ),
    },
    {
        "key": "e_utsatthet",
        "texts": {
            "sv": "Utsatthet för brott",
            "en": "Exposure to crime",
            "fi": "Rikoksen uhriksi joutuminen",
        },
        "questions": [
            *_items(
                "utsatt",
                YES_NO,
                [
                    ("utsatt_inbrott", "bostadsinbrott", "burglary in your home", "asuntomurto"),
                    ("utsatt_stold", "stöld", "theft", "varkaus"),
                    ("utsatt_skadegorelse", "skadegörelse", "vandalism", "ilkivalta"),
                    (
                        "utsatt_hot",
                        "hot eller trakasserier",
                        "threats or harassment",
                        "uhkailu tai häirintä",
                    ),
                    ("utsatt_misshandel", "misshandel", "assault", "pahoinpitely"),
                    ("utsatt_bedrageri", "bedrägeri", "fraud", "petos"),
                ],
            ),
            _q(
                "anmalde_polisen",
                "single",
                "Om du utsattes för något av detta: anmälde du det till polisen?",
                "If you were subjected to any of this: did you report it to the police?",
                "Jos jouduit jonkin näistä kohteeksi: ilmoititko siitä poliisille?",
                [
                    _c("ja_allt", "Ja, allt", "Yes, all of it", "Kyllä, kaiken"),
                    _c("ja_en_del", "Ja, en del", "Yes, some of it", "Kyllä, osan"),
                    _c("nej", "Nej", "No", "En"),
                    _c("inte_aktuellt", "Inte aktuellt", "Not applicable", "Ei koske minua"),
                ],
            ),
        ],
    },
    {
        "key": "f_fortroende",
        "texts": {"sv": "Förtroende", "en": "Trust", "fi": "Luottamus"},
        "questions": _items(
            "fortroende",
            AGREE,
            [
                (
                    "fortroende_polisen",
                    "Polisen bryr sig om de lokala problemen där jag bor",
                    "The police care about the local problems where I live",
                    "Poliisi välittää asuinalueeni paikallisista ongelmista",
                ),
                (
                    "fortroende_kommunen",
                    "Kommunen bryr sig om de lokala problemen där jag bor",
                    "The municipality cares about the local problems where I live",
                    "Kunta välittää asuinalueeni paikallisista ongelmista",
                ),
            ],
        ),
    },
    {
        "key": "g_om_dig",
        "texts": {"sv": "Om dig", "en": "About you", "fi": "Tietoja sinusta"},
        "questions": [
            _q(
                "kon",
                "single",
                "Kön",
                "Gender",
                "Sukupuoli",
                [
                    _c("kvinna", "Kvinna", "Woman", "Nainen"),
                    _c("man", "Man", "Man", "Mies"),
                    _c("annat", "Annat", "Other", "Muu"),
                    NO_ANSWER,
                ],
            ),
            _q(
                "alder",
                "single",
                "Ålder",
                "Age",
                "Ikä",
                [
                    _c("16_24", "16–24 år", "16–24", "16–24 vuotta"),
                    _c("25_34", "25–34 år", "25–34", "25–34 vuotta"),
                    _c("35_44", "35–44 år", "35–44", "35–44 vuotta"),
                    _c("45_54", "45–54 år", "45–54", "45–54 vuotta"),
                    _c("55_64", "55–64 år", "55–64", "55–64 vuotta"),
                    _c("65_74", "65–74 år", "65–74", "65–74 vuotta"),
                    _c("75_84", "75–84 år", "75–84", "75–84 vuotta"),
                    _c("85_plus", "85 år eller äldre", "85 or older", "85 vuotta tai vanhempi"),
                    NO_ANSWER,
                ],
            ),
            _q(
                DISTRICT_QUESTION,
                "single",
                "I vilket område bor du?",
                "In which area do you live?",
                "Millä alueella asut?",
            ),
            _q(
                "boendeform",
                "single",
                "Hur bor du?",
                "What kind of housing do you live in?",
                "Millaisessa asunnossa asut?",
                [
                    _c(
                        "flerfamiljshus",
                        "I flerfamiljshus (lägenhet)",
                        "In an apartment building",
                        "Kerrostalossa",
                    ),
                    _c(
                        "smahus",
                        "I småhus (villa, radhus)",
                        "In a house (detached or terraced)",
                        "Pientalossa (omakoti- tai rivitalo)",
                    ),
                    _c("annat", "Annat", "Other", "Muu"),
                    NO_ANSWER,
                ],
            ),
        ],
    },
    {
        "key": "h_forslag",
        "texts": {"sv": "Förslag", "en": "Suggestions", "fi": "Ehdotukset"},
        "questions": [
            _q(
                "forslag",
                "text",
                "Vad tycker du att kommunen och polisen ska göra för att öka tryggheten?",
                "What do you think the municipality and the police should do to increase safety?",
                "Mitä kunnan ja poliisin pitäisi mielestäsi tehdä turvallisuuden lisäämiseksi?",
            ),
        ],
    },
]

# Background questions that results can be broken down by.
BREAKDOWN_KEYS = ["omrade", "alder", "kon"]
