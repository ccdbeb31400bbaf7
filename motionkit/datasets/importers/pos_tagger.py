"""A small rule- and lexicon-based part-of-speech tagger for short motion descriptions.

HumanML3D's caption files hold ``word/POS`` tokens made with spaCy (lemmas, universal POS tags:
``a/DET man/NOUN kick/VERB ...``), and T2M's evaluator reads them. spaCy models and nltk's tagger
data cannot be installed offline here, so this tagger covers the vocabulary of motion captions
("a person walks forward and turns left", "walk (happy style)", "playground - climb, sit") with:

1. a closed-class lexicon (determiners, pronouns, adpositions, conjunctions, auxiliaries, numbers);
2. an open-class lexicon of motion verbs, body/scene nouns, adjectives and adverbs;
3. lemmatisation of inflected forms (``walks``/``walking``/``walked`` -> ``walk``, irregular verbs
   and plurals from a table, ``-s``/``-es``/``-ies``/``-ing``/``-ed`` stripping checked against the
   lexicon);
4. context rules for words that are both verb and noun (``jump``, ``walk``, ``kick``...): after a
   determiner, adjective, number or possessive they are nouns, otherwise verbs;
5. suffix guesses for unknown words (``-ly`` adverb, ``-ing``/``-ed`` verb, ``-ous``/``-ful``/...
   adjective, else noun).

It is not a general English tagger; on captions outside this vocabulary it falls back to the
suffix rules. Tokens are lowercase lemmas without punctuation, as in HumanML3D.
"""
from __future__ import annotations

import re

__all__ = ['tag_caption', 'lemmatize', 'UNIVERSAL_TAGS']

UNIVERSAL_TAGS = ('ADJ', 'ADP', 'ADV', 'AUX', 'CCONJ', 'DET', 'INTJ', 'NOUN', 'NUM', 'PART', 'PRON',
                  'PROPN', 'SCONJ', 'SYM', 'VERB', 'X')

_CLOSED = {
    'DET': 'a an the this that these those his her their its my your our some each every another both all '
           'any no either neither',
    'PRON': 'he she it they him them himself herself themselves itself someone somebody something '
            'anyone anything everyone everything who what which i you we me us one',
    'ADP': 'in on at to from with by for of over under around across through into onto towards toward '
           'behind off out about along after before like between above below near against upon without '
           'within beside underneath past per via',
    'CCONJ': 'and or but nor',
    'SCONJ': 'while as if because until when whilst though although than',
    'AUX': 'is are was were be been being am has have had does do did can could will would should may '
           'might must',
    'PART': 'not',
    'NUM': 'zero two three four five six seven eight nine ten eleven twelve twenty thirty hundred',
    'ADV': 'forward forwards backward backwards sideways slowly quickly then again very also fast away '
           'back twice once still together briskly up down there here around so just too quite almost '
           'rapidly gently repeatedly continuously clockwise counterclockwise anticlockwise straight '
           'upward upwards downward downwards outward inward afterwards finally first high low',
}

_VERBS = set('''walk run jog jump kick punch turn wave raise bow dance sit stand bend squat throw catch
climb hang swing dribble shoot stretch lift reach step hop skip crawl lie roll spin twist lean pick scoop
wash grab rock lower dangle balance navigate call respond guide slash dash march stumble limp shuffle
stroll sprint swim clap push pull tiptoe carry hold look play strike rotate move put place touch kneel
crouch fall get go come take make begin start stop pause return bounce shake nod point swat stomp jab
hit block dodge duck slide drag drop pivot rise circle cross bring pass perform do cartwheel leap rest
tap kneel sway flap stagger fold unfold open close brush rub clean scratch wipe reach extend flex
swing shuffle waddle jump hug greet salute gesture bye byebye beckon motion signal pose lunge wobble
skate ski paddle row pray bow curtsy shrug shiver sneeze cough drink eat read write type answer listen
wait stay keep use check'''.split())

_NOUNS = set('''person man woman human figure someone hand hands arm arms leg legs foot feet body head
shoulder shoulders knee knees hip hips elbow elbows wrist wrists waist chest back torso neck finger
fingers toe toes ball ground floor circle step steps direction playground terrain style dance jump walk
run stride pirouette arabesque cartwheel sword swordplay basketball equipment bar ladder rope chair
table object box door wall stairs stair time times motion movement pose position side left right
expression behavior behaviour rock way place spot line path air front pace jog kick punch turn wave
bow call guide slash dash respond hop skip roll spin squat lunge stretch swing crawl slide jete
jetes pirouettes arabesques self subject sample take clip move moves gesture gestures greeting
strike strikes shot shots dribble layup hoop net game sport exercise routine martial art boxing
soccer golf salsa ballet tiptoe tiptoes'''.split())

_ADJS = set('''left right normal slow brisk happy sad angry proud old tired active feminine masculine
masculinity childish youthful elderly exhausted uneven modern other small big large high low quick long
short fast slight wide narrow full half whole straight bent same different several few many much more
less little new young heavy light musical giant confident not-confident chimpira strong weak careful
casual relaxed stiff excited nervous upset calm powerful gentle energetic lazy drunk injured hurt
wounded graceful clumsy upper lower front rear inner outer single double various random forward
sideways circular vertical horizontal diagonal quick rapid steady sudden open closed raised lowered
overhead'''.split())

_IRREGULAR = {
    'ran': 'run', 'went': 'go', 'gone': 'go', 'took': 'take', 'taken': 'take', 'stood': 'stand',
    'sat': 'sit', 'threw': 'throw', 'thrown': 'throw', 'fell': 'fall', 'fallen': 'fall', 'got': 'get',
    'gotten': 'get', 'held': 'hold', 'began': 'begin', 'begun': 'begin', 'lay': 'lie', 'lain': 'lie',
    'lying': 'lie', 'swung': 'swing', 'hung': 'hang', 'caught': 'catch', 'brought': 'bring',
    'came': 'come', 'made': 'make', 'did': 'do', 'done': 'do', 'leapt': 'leap', 'knelt': 'kneel',
    'spun': 'spin', 'struck': 'strike', 'rose': 'rise', 'risen': 'rise', 'slid': 'slide', 'put': 'put',
    'feet': 'foot', 'men': 'man', 'women': 'woman', 'people': 'person', 'children': 'child',
    'is': 'be', 'are': 'be', 'was': 'be', 'were': 'be', 'been': 'be', 'am': 'be', 'has': 'have',
    'had': 'have', 'does': 'do', 'his': 'his', 'its': 'its', 'this': 'this', 'hips': 'hip',
}

_LEXICON: dict[str, str] = {}
for _tag, _words in _CLOSED.items():
    for _w in _words.split():
        _LEXICON.setdefault(_w, _tag)

_NOUN_CONTEXT = {'DET', 'ADJ', 'NUM', 'PRON_POSS'}
_POSSESSIVE = {'his', 'her', 'their', 'its', 'my', 'your', 'our'}
_TOKEN = re.compile(r"[a-z0-9]+(?:[-'][a-z0-9]+)*")


def _known(word: str) -> bool:
    return word in _VERBS or word in _NOUNS or word in _ADJS


def lemmatize(word: str) -> str:
    """Lemma of a lowercase word (irregular table, then suffix stripping checked against the lexicon)."""
    if word in _IRREGULAR:
        return _IRREGULAR[word]
    if word in _LEXICON or _known(word):
        # Plural nouns that are also base forms elsewhere ('arms', 'legs') still reduce below.
        if not (word.endswith('s') and _known(word[:-1])):
            return word
    candidates = []
    if word.endswith('ies') and len(word) > 4:
        candidates.append(word[:-3] + 'y')
    if word.endswith('es') and len(word) > 3:
        candidates.append(word[:-2])
    if word.endswith('s') and not word.endswith('ss') and len(word) > 2:
        candidates.append(word[:-1])
    for suffix in ('ing', 'ed'):
        if word.endswith(suffix) and len(word) > len(suffix) + 2:
            stem = word[:-len(suffix)]
            candidates += [stem, stem + 'e']
            if len(stem) > 2 and stem[-1] == stem[-2]:  # running -> run, stepped -> step
                candidates.append(stem[:-1])
            if suffix == 'ed' and stem.endswith('i'):  # carried -> carry
                candidates.append(stem[:-1] + 'y')
    for c in candidates:
        if _known(c):
            return c
    return word


def _tag_word(word: str, lemma: str, prev: str | None) -> str:
    if word in _LEXICON:
        return _LEXICON[word]
    if word.isdigit() or re.fullmatch(r'\d+(\.\d+)?', word):
        return 'NUM'
    is_verb, is_noun, is_adj = lemma in _VERBS, lemma in _NOUNS, lemma in _ADJS
    if word.endswith('ing') and is_verb:
        return 'VERB'
    if is_adj and (not (is_verb or is_noun) or word in ('left', 'right')):
        # 'left'/'right' are adjectives before a noun; after a verb ('turns left') spaCy says ADV,
        # HumanML3D keeps them as ADV/ADJ inconsistently: use ADV after a verb.
        return 'ADV' if prev == 'VERB' and word in ('left', 'right') else 'ADJ'
    if is_verb and is_noun:
        return 'NOUN' if prev in _NOUN_CONTEXT else 'VERB'
    if is_verb:
        return 'VERB'
    if is_noun:
        return 'NOUN'
    if is_adj:
        return 'ADJ'
    if word.endswith('ly'):
        return 'ADV'
    if word.endswith(('ing', 'ed')):
        return 'VERB'
    if word.endswith(('ous', 'ful', 'ive', 'able', 'ible', 'al', 'ic', 'less', 'ish')):
        return 'ADJ'
    return 'NOUN'


def tag_caption(caption: str) -> list[str]:
    """``word/POS`` tokens of a caption (lowercase lemmas, universal POS tags, no punctuation).

    Example:
        >>> tag_caption('A person walks forward and turns left.')
        ['a/DET', 'person/NOUN', 'walk/VERB', 'forward/ADV', 'and/CCONJ', 'turn/VERB', 'left/ADV']
    """
    out = []
    prev: str | None = None
    words = _TOKEN.findall(caption.lower())
    for k, word in enumerate(words):
        lemma = lemmatize(word)
        tag = _tag_word(word, lemma, prev)
        if word == 'to' and k + 1 < len(words) and lemmatize(words[k + 1]) in _VERBS:
            tag = 'PART'  # infinitive marker: "to walk"
        if word in ('left', 'right') and k + 1 < len(words) and lemmatize(words[k + 1]) in _NOUNS:
            tag = 'ADJ'  # "wave left hand"
        if tag == 'ADP' and (k + 1 == len(words)) and word in ('around', 'over', 'off', 'out', 'in', 'on'):
            tag = 'ADV'  # particle at the end: "turn around"
        out.append(f'{lemma}/{tag}')
        prev = 'PRON_POSS' if word in _POSSESSIVE else tag
    return out
