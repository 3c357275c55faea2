"""Search vocabulary: how text becomes terms, and which words mean the same thing.

Both the catalog text and a query pass through `words()` (tokens, camelCase split, phrases joined)
and `stem()`. The tables here are general knowledge of how developers name backend things —
synonyms, SQL/Firebase/Supabase/S3 words, verb classes — never answers to particular queries.
They are written one entry per line so they read like the word lists they are.
"""

from __future__ import annotations

import re
from functools import cache

import Stemmer

_STEMMER = Stemmer.Stemmer("english")


def _word_sets(table: str) -> list[set[str]]:
    return [set(line.split()) for line in table.strip().splitlines()]


def _keyed_lines(table: str) -> list[tuple[str, str]]:
    """`key: value` lines as pairs; a key may be written on several lines."""
    return [(key.strip(), value.strip()) for key, value in (line.split(":", 1) for line in table.strip().splitlines())]


def _grouped_words(table: str) -> dict[str, set[str]]:
    """`key: word word ...` lines, the words of lines with the same key merged."""
    out: dict[str, set[str]] = {}
    for key, value in _keyed_lines(table):
        out.setdefault(key, set()).update(value.split())
    return out


# Multi-word expressions (as they read after lowercasing and splitting on punctuation) and the one
# word that stands for each: `word: phrase | phrase`. Applied to catalog text and queries alike.
PHRASES: dict[tuple[str, ...], str] = {
    tuple(phrase.split()): word
    for word, phrases in _keyed_lines(
        """
signup: sign up | signed up | signs up | signing up
login: sign in | signed in | signs in | signing in | log in | logged in | logs in | logging in | log on | logon
logout: log out | logged out | logs out | logging out | sign out | signed out | signs out | signing out
mfa: two factor | 2 factor | second factor | multi factor | 2 step | two step
otp: one time password | one time code
magic: magic link | magic url
recovery: forgot password | forgotten password | reset password | password reset | lost password
count: how many | number of
sort: order by | sort by | sorted by | ordered by
aggregate: group by
variable: env var | env vars | environment variable | environment variables
push: push notification | push notifications
sms: text message | text messages | texts | text users | text them | text the user | text a user | text customers
atomic: all or nothing
onetoone: one to one
onetomany: one to many | has many
manytoone: many to one | belongs to
manytomany: many to many
relationship: foreign key | foreign keys
id: primary key
rls: row level security | row security | document security | file security
rls: document level security | row level permissions
enable: turn on | switch on
limit: at most | no more than | only one | not more than
upsert: if it does not exist | if it doesn't exist | if not exists | if missing | create or update | insert or update
destroy: tear down | tears down | tearing down | torn down | take down | shut down | get rid of
disable: turn off | switch off
rollback: roll back | rolled back
lookup: look up
setup: set up
cleanup: clean up
create: spin up
current: up to date | right now
email: e mail
sso: sign on | single sign on
jwt: id token | access token | bearer token
phone: phone number | mobile number | cell phone
dialcode: dial code | calling code | country code
mime: mime type | content type | file type
size: file size
ip: ip address
url: web address
geolocation: lat long | lat lng | latitude longitude | latitude and longitude | long lat | lng lat
pubsub: pub sub
failed: dead letter
function: cloud function | cloud functions | edge function | edge functions | serverless function
admin: server side | server-side | from the server | from my backend | from the backend | from our backend
admin: back office | backoffice | admin panel | admin dashboard | admin side | support staff | support agent
admin: internal tool | my server | our server | backend worker
enum: one of | only one of | must be one of | either of
integer: whole number | whole numbers
boolean: yes no | yes or no | true or false | on off
unique: no two | no duplicates | no duplicate | not duplicated
theme: dark mode | light mode | color scheme | colour scheme
self: my account | my own | current user | currently logged in | currently signed in | logged in user
self: signed in user | logged in users | signed in users
table: alter table
documentsdb: document database | documents database | document db | documents db | document store
vectorsdb: vector database | vectors database | vector db | vector store | vector index
"""
    )
    for phrase in phrases.split("|")
}
MAX_PHRASE = max(len(p) for p in PHRASES)
_PHRASE_STARTS = frozenset(phrase[0] for phrase in PHRASES)
# Particles a two-word verb may be split from by a short object: "log users out", "switch it off".
SEPARABLE_PARTICLES = frozenset("out off down".split())
MAX_PARTICLE_GAP = 2

# Groups of words that name the same thing for a developer, one group per line. Every member stands
# for every other member at SYNONYM_WEIGHT; a word may belong to several groups.
SYNONYM_GROUPS: list[set[str]] = _word_sets(
    """
documentsdb mongo mongodb nosql schemaless
vectorsdb embedding embeddings pinecone similarity vector vectors
doc document entry item record row tuple
collection table
domain hostname rule
attribute column field prop property
database datastore db
index indexes indices unique
unique uniqueness duplicate duplicates distinct dedupe
association join link linked reference references relation relationship
atomic commit rollback transaction tx txn
access acl authorization grant permission policy privilege rls
condition criteria filter find lookup query search select where
order ordering sort sorted
batch bulk many mass multiple several
count tally total
int int32 integer number smallint
bigint int64 integer
decimal decimals double float fraction numeric real
bool boolean checkbox false flag toggle true
date datetime time timestamp timestamptz
allowed choice enum enumeration options
char string text varchar
coordinate coordinates geo geolocation geopoint lat latitude lng location longitude point
area boundary geofence polygon region zone
line linestring path route
counter increment tally
insight finding recommendation suggestion
definition schema structure
asset attachment blob file media object upload
image img jpeg jpg photo pic picture png
bucket container directory drive folder
crop preview resize thumb thumbnail transform transformation
download save
bytes metadata mime size
account buyer client customer employee member patient people person player profile student user visitor
company group org organisation organization squad team tenant workspace
invitation invite invited member membership seat
cookie device login logon session signin
enroll join onboard register registration signup
logoff logout signout
credential credentials passphrase passwd password pwd
firebase scrypt
2fa authenticator mfa otp totp twofactor
confirm confirmation confirmed validate verification verified verify
forgot forgotten recover recovery reset
badge claim label role tag tier
option options preference preferences prefs setting settings theme
ban banned block blocked deactivate status suspend unban unblock
bearer idtoken jwt
code magic otp passwordless token
identity oauth oauth2 social sso
admin backend server service superuser moderator moderators staff
current currently me mine my myself own self
alert announcement broadcast campaign message notification notify
email inbox mail newsletter smtp
sms texting txt
apn apns fcm push notification notifications
audience channel mailinglist segment topic
follower optin subscribe subscribed subscriber subscription
gateway integration provider vendor
device endpoint recipient target
activity audit delivery event events history log trail
function handler job lambda script serverless worker
call execute execution fire invocation invoke run trigger
build deploy deployment publish redeploy release rollout version
dotenv env environment secret var variable
interpreter language runtime
frontend hosting site spa ssr webapp website
angular astro flutter framework gatsby next nextjs nuxt react remix svelte sveltekit vite vue
cron daily hourly nightly periodic recurring schedule scheduled timer
boilerplate scaffold starter template
branch commit git repo repository vcs
cpu memory plan ram specification tier
alive connection connectivity down health healthy heartbeat liveness outage ping reachable readiness up uptime
backed backlog jobs pending queue
dead error errors failed failing failure
cache memcached redis
cert certificate https ssl tls
antivirus clamav malware scan scanning virus
geo geoip i18n l10n locale localization
countries country nation
currencies currency money
language languages translation
avatar initials monogram
barcode qr qrcode
favicon icon logo
capture screenshot snapshot
flag flags
gql graphql
auto automatic automatically
callback hook webhook webhooks
offline online presence typing indicator
expiring presigned share sharing temporary
"""
)
SYNONYM_WEIGHT = 0.5

# Verb classes of operation methods (createRow, listRows, ...) and the words developers use for them.
VERB_CLASSES: dict[str, set[str]] = _grouped_words(
    """
create: add append attach begin call create define deploy execute generate import insert invite invoke notify
create: issue login make new open persist post produce provision put register run schedule send setup signup
create: start store subscribe trigger upload write save remember keep record set map configure
list: browse count enumerate filter list paginate query search
get: check describe detail details detect display download fetch find get info inspect load lookup
get: preview read retrieve see show view what which
update: activate adjust alter ban block change commit deactivate demote disable edit enable
update: extend mark modify move patch promote refresh rename renew replace resize rollback rotate set
update: suspend switch toggle unban unblock update increase raise decrease lower reduce save remember keep
update: accept approve confirm stop prevent forbid disallow complete finish finalize
update: translate localize reword rewrite brand restyle verify tag configure
delete: clear del delete destroy discard drop erase evict expunge kick logout nuke purge remove revoke rm
delete: terminate truncate unlink unsubscribe wipe empty
upsert: merge upsert
increment: bump inc increase increment plus
decrement: decrease decrement deduct lower minus reduce subtract
"""
)
# Retrieval verbs read one thing or many; the query's plurality decides which.
RETRIEVAL = frozenset({"get", "list"})

STOPWORDS = frozenset(
    """
a able about again already also am an and any app apps are aren't as at be been being but by can
could did do does doesn't doing don't done else had has have having he her here his how i i'd i'll
i'm if into is isn't it it's its just let lets like may might must need needs now ok okay one only
onto or our out over please really shall she should so some something still sure than that the their
them then there these they thing things this those too us use used using very via want wants was way
we we'll we're were when who whom whose why will with would yet you your all every each entire whole
""".split()
)
# Words that may stand between a verb and its object without ending the object phrase.
DETERMINERS = frozenset(
    "a an the this that these those all every each my our your their its his her some any entire whole".split()
)
# Prepositions open a phrase that names where the object lives ("... to the notes table").
PREPOSITIONS = frozenset(
    "across at between for from in inside into of on onto per to under with within without".split()
)
# Words that say the request is about many things at once.
QUANTIFIERS = frozenset(
    "all every each many multiple bulk batch several mass where matching everyone everybody".split()
)
SINGULAR_MARKERS = frozenset("id single one specific particular given certain this".split())
# Words that open a clause describing the object ("a bucket that only accepts PDFs").
CLAUSE_MARKERS = frozenset(
    "that which so because when whenever while once if unless until where but except including after before".split()
)
# Words of a verb class that set the action only when they open a clause ("new API key"); elsewhere they
# describe a noun ("the user submitted the new password").
ADJECTIVE_VERBS = frozenset({"new"})
# Words that open a sentence's scene-setting clause ("after a password change, sign users out").
SUBORDINATORS = frozenset("after before when whenever once if unless until while".split())
# Words that open a yes/no question, which asks to read a state rather than to act.
QUESTION_STARTS = frozenset("is are was were does did has have".split())
# Verbs that aim their object at a target ("point shop.example.com at my site", "aim the domain to the API") map
# one thing to another; the noun "point" (a coordinate) is meant only without such a target.
AIMING_VERBS = frozenset("point points pointing aim".split())
AIMING_TARGETS = frozenset("at to towards".split())
AIMED = "map"
# Words after which the verb's noun does not yet exist ("create it if it does not exist"): the write is an upsert,
# whatever the verb.
UPSERT_MARKERS = frozenset({"upsert"})
# Verbs that switch a thing on, which may be made by a create (two-factor with an authenticator app) as well as set
# by an update: the create beside an update is not the wrong verb for them.
SWITCH_VERBS = frozenset({"enable", "activate"})
# Verbs that switch a thing on or off; what they switch about signing in is a way to sign in (a sign-in method:
# "enable phone sign-in", "turn off email and password login"), never a session.
ON_OFF_VERBS = SWITCH_VERBS | {"disable", "deactivate"}
# Verbs that keep someone from an action ("stop people from signing in", "block users from creating JWTs"): the action
# after "from" is what they switch off, so it joins their object.
PREVENTING_VERBS = frozenset("stop block prevent forbid disallow".split())
PREVENTED = "from"
SIGN_IN = "login"
# Words for signing in and for the ways to sign in a project switches: logging in, magic links, one-time codes,
# anonymous guests, JWTs.
SIGN_IN_TERMS = frozenset({SIGN_IN, "jwt", "magic", "otp", "anonym", "passwordless"})
SIGN_IN_METHOD = "method"
# Words that say an existing thing is changed, whatever the verb ("add a value to the existing enum").
UPDATE_MARKERS = frozenset("existing already".split())
# Words that ask for the legacy API on purpose.
LEGACY_MARKERS = frozenset("legacy old deprecated older previous outdated".split())
# Words the stemmer would merge with a different word (customer/custom, production/product).
STEM_EXCEPTIONS = {
    "customer": "customer",
    "customers": "customer",
    "production": "production",
    "indicator": "indicator",
    "indicators": "indicator",
    "typing": "typing",
}

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_TOKEN = re.compile(r"[A-Za-z0-9]+(?:['\u2019][A-Za-z]+)?")
_VOWEL = re.compile(r"[aeiouy]")


def split_camel(word: str) -> list[str]:
    return [part for part in _CAMEL.split(word) if part]


def has_camel(word: str) -> bool:
    """Whether a word changes case inside (createRow, WordPress, OAuth2)."""
    return _CAMEL.search(word) is not None


def words(text: str) -> list[str]:
    """Lowercase words of `text`, camelCase split, with known phrases joined into one word."""
    return join_phrases(_TOKEN.findall(_CAMEL.sub(" ", text).lower()))


def compounds(text: str) -> list[str]:
    """Mixed-case tokens of `text` as one lowercase word (WordPress -> wordpress, PHPass -> phpass)."""
    return [token.lower() for token in _TOKEN.findall(text) if has_camel(token)]


def separated_particle(tokens: list[str], i: int) -> tuple[str, int] | None:
    """A two-word verb split by its object ("log users out", "turn it off"): its word and the particle's place."""
    for gap in range(1, MAX_PARTICLE_GAP + 1):
        j = i + gap + 1
        if j < len(tokens) and tokens[j] in SEPARABLE_PARTICLES:
            joined = PHRASES.get((tokens[i], tokens[j]))
            return (joined, j) if joined else None
    return None


def join_phrases(tokens: list[str]) -> list[str]:
    out: list[str] = []
    tokens = list(tokens)
    i = 0
    while i < len(tokens):
        size = phrase_length(tokens, i)
        split = separated_particle(tokens, i) if tokens[i] in _PHRASE_STARTS and not size else None
        if size:
            out.append(PHRASES[tuple(tokens[i : i + size])])
            i += size
        elif split:
            word, particle = split
            out.append(word)
            del tokens[particle]
            i += 1
        else:
            out.append(tokens[i])
            i += 1
    return out


def phrase_length(tokens: list[str], i: int) -> int:
    """How many words the longest phrase starting at `i` spans (0 for none)."""
    if tokens[i] not in _PHRASE_STARTS:
        return 0
    for size in range(min(MAX_PHRASE, len(tokens) - i), 1, -1):
        if tuple(tokens[i : i + size]) in PHRASES:
            return size
    return 0


@cache
def stem(word: str) -> str:
    word = word.replace("\u2019", "'").split("'")[0]
    if word in STEM_EXCEPTIONS:
        return STEM_EXCEPTIONS[word]
    # The stemmer keeps the plural of an acronym without vowels (jwts, sdks, pdfs); short ones (sms) stay whole.
    if len(word) > 3 and word.endswith("s") and not _VOWEL.search(word):
        return word[:-1]
    return _STEMMER.stemWord(word)


def is_plural(word: str) -> bool:
    """A plural noun such as `rows` or `entries` (not `status` or `access`)."""
    return len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")) and stem(word) != word


def _synonym_table() -> dict[str, tuple[str, ...]]:
    table: dict[str, set[str]] = {}
    for group in SYNONYM_GROUPS:
        stems = {stem(w) for w in group}
        for member in stems:
            table.setdefault(member, set()).update(stems - {member})
    return {key: tuple(sorted(value)) for key, value in table.items()}


SYNONYMS: dict[str, tuple[str, ...]] = _synonym_table()


def _verbs_of_stems() -> dict[str, frozenset[str]]:
    table: dict[str, set[str]] = {}
    for verb, members in VERB_CLASSES.items():
        for word in members:
            table.setdefault(stem(word), set()).add(verb)
    return {key: frozenset(value) for key, value in table.items()}


# The verb classes each stemmed word can stand for ("increase" an counter, or a limit).
VERB_OF_STEM: dict[str, frozenset[str]] = _verbs_of_stems()
# Verbs whose object is a container they act inside: "empty the carts table" deletes its rows, not the table.
CONTENT_VERBS = frozenset(stem(verb) for verb in ("empty", "truncate"))
# What tables and collections hold: the object of a content verb, and what the app's own nouns stand for.
ITEM_TERMS = frozenset({"row", "document"})
# The terms phrases are joined into: each names a concept of the API ("my account" -> self).
PHRASE_TERMS = frozenset(stem(word) for word in PHRASES.values())
