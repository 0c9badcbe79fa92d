"""The lexicon alone on phrasings the labelled sets lack: dialect (Syrian, Iraqi, Gulf),
Arabizi, euphemisms and indirect wordings, each with hard negatives that must not flag.
Every row is a rule's reason to exist; a row that fails names the rules that matched."""

from __future__ import annotations

from pathlib import Path

import pytest

from casework.triage import Lexicon, load_lexicon, word_forms

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def lexicon() -> Lexicon:
    return load_lexicon(ROOT / "config" / "triage.yaml")


# (id, message, sensitive, urgent) — the lexicon alone, without the statistical model.
URGENT = [
    # dying, in the feminine, Iraqi «د», and Arabizi with doubled vowels
    ("dying-feminine", "امي عم تموت وما حدا عم يساعدنا", False, True),
    ("dying-iraqi", "الطفله دتموت من الحراره", False, True),
    ("dying-arabizi", "ibni 3am ymoot w ma fi doctor", False, True),
    ("dying-english", "my grandmother is dying in the tent", False, True),
    # breathing with any dialect's «can»: Iraqi «يكدر» written with ك, Arabizi, English
    ("breathing-iraqi-kaf", "هسه ابوي ما يكدر يتنفس", False, True),
    ("breathing-not-well", "الطفل وجهو ازرق وما عم يتنفس منيح", False, True),
    ("breathing-barely", "my son can barely breathe since the morning", False, True),
    ("breathing-arabizi", "binti ma 2adra tetnaffas", False, True),
    # gravely ill with no care, or a condition named critical
    ("ill-no-doctor-iraqi", "ابوي مريض كلش وماكو طبيب بالمخيم", False, True),
    ("ill-no-money", "جوزي تعبان كتير وما عنا مصاري ناخدو عالدكتور", False, True),
    ("ill-english", "my father is very sick and nobody comes, please send a doctor", False, True),
    ("ill-arabizi", "emmi mareeda kteer w ma fi daktor", False, True),
    ("critical", "حالتها خطيرة وتحتاج عملية بسرعة", False, True),
    # pregnancy with pain or bleeding
    ("pregnant-pain", "مرتي حامل بالشهر التاسع وصارلها وجع من الصبح", False, True),
    ("pregnant-bleeding", "زوجتي حامل وبلشت تنزف", False, True),
    ("pregnant-english", "my wife is pregnant and bleeding", False, True),
    # injuries, poison swallowed by any person of the verb
    ("injured-accident", "انقلبت سيارة قرب المخيم وفي جرحى", False, True),
    ("injured-head", "ابني وقع من الدرج وراسو مفتوح", False, True),
    ("kerosene-feminine", "بنتي شربت كاز بالغلط", False, True),
    ("bleach-english", "my boy drank bleach", False, True),
    # fire in Arabizi and English
    ("fire-arabizi", "el 5ime 3am t7tere2 fiha wlad", False, True),
    ("fire-english", "there is a big fire in the tents next to ours", False, True),
    ("fire-iraqi", "شبت نار بالخيمة اللي جنبنا", False, True),
    # thoughts of suicide, said as «ما عاد بدي عيش» or of someone else (urgent and sensitive)
    ("suicide-no-longer", "ما عاد بدي عيش، تعبت من كل شي", True, True),
    ("suicide-gulf", "والله ما ابي اعيش", True, True),
    ("suicide-arabizi", "ma 3ad baddi 3ish khalas", True, True),
    ("suicide-attempt", "اختي حاولت تنتحر مبارح", True, True),
    ("suicide-english", "i dont see any reason to keep living", True, True),
    ("suicide-arabizi-mout", "bdi mout w ma fi shi y5allini 3ish", True, True),
    ("suicide-rest-from-life", "ما في فايدة من حياتي وبدي ارتاح من كل شي", True, True),
    ("suicide-ending-it-all", "I am thinking of ending it all tonight", True, True),
    # falls, wells, broken limbs, blood vomited, a weak or limp baby, someone lying still
    ("well-gulf", "ولدي طاح في البير ونحاول نطلعه", False, True),
    ("well-english", "my child fell into the well", False, True),
    ("fall-cannot-get-up", "امي طاحت وما تقدر تقوم", False, True),
    ("broken-leg", "رجلها منكسرة من الصبح", False, True),
    ("vomiting-blood", "ابوي يتقيأ دم", False, True),
    ("vomiting-blood-arabizi", "bnti 3am tet2ayya damm", False, True),
    ("diarrhoea-weak", "the baby has had diarrhea for three days and is very weak", False,
     True),
    ("not-feeding", "الطفل ما رضع من امس وصاير ذبلان", False, True),
    ("lying-still", "جاري طايح بالارض وما يرد", False, True),
    ("bleeding-not-stopped", "زوجتي ولدت بالخيمه وما وقف النزيف", False, True),
    ("not-eaten-first-person", "انا ما اكلت من ثلاث ايام", False, True),
    ("missing-hidden", "ابني مختفي من امبارح بالليل", True, True),
    ("missing-arabizi", "binti ma raje3et mn el madrase la halla2", True, True),
    ("armed-firing-now", "المسلحين دخلو عالمخيم وعم يطلقو نار", True, True),
    # indirect suicide: sleep and not wake, go for ever, pills taken
    ("suicide-sleep-not-wake", "خلاص تعبت بدي نام وما اصحى", True, True),
    ("suicide-gone-forever", "ابي اروح للابد ولا ارجع", True, True),
    ("suicide-pills", "I want to disappear forever, I took a lot of pills", True, True),
    # thirst and hunger worded otherwise, a newborn that does not cry, fire, bad water
    ("thirst-iraqi-plural", "الماي مقطوع والجهال عطاشى", False, True),
    ("nothing-to-feed", "we have nothing to feed the baby", False, True),
    ("newborn-not-crying", "ولدت بالخيمة والجنين ما عم يبكي", False, True),
    ("fire-held", "النار ماسكة بالخيمة", False, True),
    ("tank-water-arabizi", "wlad 3am ystafrgo kellon ba3d ma shrbo mn el khazzan", False, True),
    ("intruders-now", "some men are trying to get into our tent at night right now", False,
     True),
]

SENSITIVE = [
    # bribes: «اكرامية», «حلوان» in Arabizi, Iraqi «حق الچاي», a "tip"
    ("bribe-ikramiya-arabizi", "gal lazem tintee ikramiya 7atta yktib ismak", True, False),
    ("bribe-tea-iraqi", "المسؤول يريد حق الچاي حتى يسجلنا", True, False),
    ("bribe-tip", "the guy at distribution wanted a tip before giving us the voucher", True,
     False),
    ("bribe-helwan-arabizi", "talab 7ilwan la y7ot esmna", True, False),
    ("queue-for-money", "بيطلب مصاري من الناس بالسر مشان يقدم دورهم", True, False),
    # sex for aid: a price left unsaid, a woman told to come alone, to be "nice"
    ("price-unsaid", "الموظف بدو مقابل حتى يسجلني وانا ارملة", True, False),
    ("price-unsaid-iraqi", "يريد مقابل حتى يطلع اسمي", True, False),
    ("come-alone", "طلب مني اروح لعندو لحالي عالمكتب بعد الدوام", True, False),
    ("come-alone-iraqi", "گال تعالي للمكتب وحدج", True, False),
    ("be-nice", "they told my sister she gets the cash only if she is nice to the manager", True,
     False),
    ("harass-arabizi-e", "wa7ed mn el lajna 3am yet7arash b binti", True, False),
    ("follows-girl-arabizi", "wa7ed 3am yla7e2 binti kel yom", True, False),
    # confidentiality: a story exposed, a number given out
    ("exposed-story", "موظف الحماية فضح قصتي قدام الجيران", True, False),
    ("number-given-out", "عطوا اسمي ورقم تلفوني للناس وصار الكل يعرف شو مشكلتي", True, False),
    # retaliation in the second person
    ("retaliation-you", "الموظف قلي اذا بتشتكي ما رح تشوف مساعدة بعد اليوم", True, False),
    # fraud: signing for more than given, the dead still drawing aid
    ("signed-for-more", "يوقعونا على استلام مبلغ ١٠٠ دولار ويعطونا ٥٠ بس", True, False),
    ("ghosts-cashed", "اسماء ناس ميتين بعدها بالقوائم وحدا عم يقبض عنهم", True, False),
    # violence at home (GBV)
    ("dv-locked-in", "زوجي قفل علي الباب وما بيخليني اطلع", True, False),
    ("dv-iraqi", "رجلي يبسطني كل يوم", True, False),
    ("dv-card-taken", "my husband beats me and took my card", True, False),
    # more sex for aid: photos asked, a teacher's night messages, "go out with me or else"
    ("photos-arabizi", "el mas2oul talab menni soura la2ello w ba3den bysajelni", True, False),
    ("photos-in-exchange", "he asked my daughter for pictures in exchange for her name", True,
     False),
    ("teacher-night-messages", "المدرس تبع المركز عم يبعت لبنتي رسائل غريبة بالليل", True,
     False),
    ("touched-hand", "الموظف لمس ايدي وقت عطاني الكرت", True, False),
    ("go-out-or-else", "قال اذا ما بتطلعي معي ما رح اعطيكي شي", True, False),
    # money pocketed, aid sold in Arabizi, contempt, exposure
    ("pocketed", "قبض مني ٥٠ الف حتى يثبت اسمي", True, False),
    ("card-sold-arabizi", "el shawish byeb3 el kart b 50 alf", True, False),
    ("you-dont-deserve", "الموظفة قالت انتو العراقيين ما بتستاهلو", True, False),
    ("told-everyone-i-complained", "المسؤول قال للجميع انو انا اشتكيت عليه", True, False),
    ("photos-posted", "حطو صورنا عالفيسبوك بدون ما يسألونا", True, False),
    ("hand-on-girls", "المشرف على التوزيع بيحط ايدو على كتاف البنات", True, False),
    ("dirty-videos", "في شب من المنظمة بيبعت للبنات فيديوهات وسخة", True, False),
    ("her-number-promised", "طلب منها رقم تلفونها ووعدها تاخذ سلة زيادة", True, False),
    ("cut-per-family-arabizi", "el monazzame 3am ya5do 10 alaf mn kel 3ayle", True, False),
    ("no-wasta-third-person", "اللي ما عنده واسطة ما ياخذ شي", True, False),
]

# Ordinary messages close to the new patterns: none may flag.
HARD_NEGATIVES = [
    ("asthma-not-urgent", "ابني عنده ربو وبدنا موعد بالعيادة", False, False),
    ("smell-hard-to-breathe", "ريحة الحمامات ما منقدر نتنفس منها", False, False),
    ("sick-got-better", "امي كانت مريضة كتير الشهر الماضي والحمد لله صارت منيحة", False, False),
    ("pregnant-vitamins", "انا حامل ومحتاجة فيتامينات ومتابعة", False, False),
    ("pregnant-back-pain-appointment", "مرتي حامل وعندها وجع ظهر بدها موعد", False, False),
    ("small-scrape", "بنتي طاحت بالمدرسه وانجرحت شوي بركبتها، المعلمه عالجتها", False, False),
    ("fire-last-year", "الحريق اللي صار السنة الماضية ما عوضونا عنه", False, False),
    ("fire-extinguisher", "we need a fire extinguisher in every block", False, False),
    ("my-own-number", "I gave my phone number to the volunteer for SMS alerts", False, False),
    ("number-to-call-me", "عطوا رقمي للمستوصف مشان يتصلو فيني بالموعد", False, False),
    ("tea-in-basket", "السلة ما فيها شاي ولا سكر هالمرة", False, False),
    ("turn-in-queue", "دورنا بالتوزيع تأخر كتير", False, False),
    ("sign-receipt", "وقعنا على ورقة الاستلام وأخدنا السلة كاملة", False, False),
    ("husband-detained", "زوجي معتقل من سنتين وما بعرف عنه شي", False, False),
    ("complain-how", "اذا بدي اشتكي على التأخير لمين بحكي؟", False, False),
    ("go-alone-clinic", "امي كبيرة وما بتقدر تروح لحالها عالمستوصف", False, False),
    ("live-here-question", "كيف بقدر عيش بمخيم تاني قريب من اهلي؟", False, False),
    ("photos-seen", "شفنا صور التوزيع عالفيسبوك، شكرا الكم", False, False),
    ("bleeding-stopped", "النزيف وقف والحمد لله صارت احسن", False, False),
    ("door-broken", "باب الخيمة منكسر وبدنا واحد جديد", False, False),
    ("staff-not-answering", "الموظف ما يرد على التلفون من اسبوع", False, False),
    ("walks-with-a-limp", "my father walks with a limp and needs a wheelchair", False, False),
    ("mild-diarrhoea", "ابني عنده اسهال خفيف بدنا دوا من المستوصف", False, False),
    ("received-cash", "قبضنا المبلغ بالكرت هالشهر بس كان ناقص", False, False),
    ("years-are-not-a-sect", "بنتي عمرها ٤ سنين ومو عم تروح عالروضة", False, False),
    ("her-number-for-appointment", "اخدو رقم تلفونها حتى يتصلو فيها للموعد", False, False),
    ("cold-not-an-emergency", "الطفل عنده زكام وسعلة خفيفة", False, False),
    ("water-truck-late", "the water truck came late today", False, False),
    ("newborn-clothes", "بدنا ملابس للمولود الجديد", False, False),
]

# «و» and «ف» come off the two-letter words that begin phrases, and only those.
SHORT_WORDS = [
    ("and-not", "وما", "ما"),
    ("so-not", "فما", "ما"),
    ("and-progressive", "وعم", "عم"),
    ("and-not-iraqi", "ومو", "مو"),
    ("and-there-is", "وفي", "في"),
]
NOT_SHORT_WORDS = [
    ("when", "لما", "ما"),
    ("as", "كما", "ما"),
    ("with-what", "بما", "ما"),
    ("about-what", "عما", "ما"),
]

# The same phrases after «و»: whatever the first word, the message means the same.
AFTER_AND = [
    ("and-nothing-left", "صارلنا يومين وما ضل عنا شي بالبيت", False, True),
    ("nowhere-to-go", "طلعنا من البيت وما عنا وين نروح", False, True),
    ("and-blood-now", "وقع ابني وعم يطلع دم من انفو", False, True),
]


def _check(lexicon: Lexicon, text: str, sensitive: bool, urgent: bool) -> None:
    assessment = lexicon.assess(text)
    assert (assessment.sensitive, assessment.urgent) == (sensitive, urgent), \
        [(hit.rule, hit.words) for hit in assessment.hits if hit.flag]


@pytest.mark.parametrize(("label", "text", "sensitive", "urgent"), URGENT,
                         ids=[row[0] for row in URGENT])
def test_urgent_phrasings(lexicon: Lexicon, label: str, text: str, sensitive: bool,
                          urgent: bool) -> None:
    _check(lexicon, text, sensitive, urgent)


@pytest.mark.parametrize(("label", "text", "sensitive", "urgent"), SENSITIVE,
                         ids=[row[0] for row in SENSITIVE])
def test_sensitive_phrasings(lexicon: Lexicon, label: str, text: str, sensitive: bool,
                             urgent: bool) -> None:
    _check(lexicon, text, sensitive, urgent)


@pytest.mark.parametrize(("label", "text", "sensitive", "urgent"), HARD_NEGATIVES,
                         ids=[row[0] for row in HARD_NEGATIVES])
def test_hard_negatives_do_not_flag(lexicon: Lexicon, label: str, text: str, sensitive: bool,
                                    urgent: bool) -> None:
    _check(lexicon, text, sensitive, urgent)


@pytest.mark.parametrize(("label", "token", "stem"), SHORT_WORDS,
                         ids=[row[0] for row in SHORT_WORDS])
def test_and_comes_off_short_words(label: str, token: str, stem: str) -> None:
    assert stem in word_forms(token)


@pytest.mark.parametrize(("label", "token", "stem"), NOT_SHORT_WORDS,
                         ids=[row[0] for row in NOT_SHORT_WORDS])
def test_other_clitics_stay_on_short_words(label: str, token: str, stem: str) -> None:
    assert stem not in word_forms(token)


@pytest.mark.parametrize(("label", "text", "sensitive", "urgent"), AFTER_AND,
                         ids=[row[0] for row in AFTER_AND])
def test_phrases_after_and(lexicon: Lexicon, label: str, text: str, sensitive: bool,
                           urgent: bool) -> None:
    _check(lexicon, text, sensitive, urgent)
