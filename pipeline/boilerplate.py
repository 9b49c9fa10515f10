"""Language-aware recognition of boilerplate lines in extracted text.

A *line* here is one paragraph of extracted text. The phrases are the stock wording of news and
blog templates (comment forms, rating widgets, share prompts, newsletter and cookie notices,
"related/read more" teasers, image credits, bylines, datelines) in English, German, French,
Spanish, Italian, Portuguese and Chinese. They are general: none is taken from a particular site.

Example::

    is_boilerplate_line("Leave a Reply")                 # True
    is_boilerplate_line("Lesen Sie auch: Die Bahn ...")  # True
    is_dateline("Montag, 18. November 2019, 14:05 Uhr")  # True
"""

from __future__ import annotations

import re

__all__ = [
    "BOILERPLATE_PREFIXES",
    "BOILERPLATE_WHOLE",
    "is_boilerplate_line",
    "is_keyword_list",
    "is_byline",
    "is_dateline",
]

# A line that *is* one of these (after trimming punctuation) is boilerplate.
BOILERPLATE_WHOLE: tuple[str, ...] = (
    # en
    r"no votes yet", r"please wait", r"loading", r"leave a (reply|comment|response)",
    r"(post a |add a |write a )?comments?", r"\d+ (comments?|responses?|replies)",
    r"(no|\d+) comments( yet)?", r"be the first to comment", r"comments are closed",
    r"like this", r"share( this( article| story| post| page)?)?", r"tweet( this)?",
    r"(email|print|save)( this( article| story)?)?", r"advertisement", r"sponsored( content)?",
    r"(related|recommended|popular|trending|latest)( posts| articles| stories| news| content"
    r"| coverage| topics| reading)?", r"(most )?(popular|read|viewed|shared)", r"don'?t miss",
    r"you (may|might) also like", r"more (from|on) this( story| topic)?", r"read more",
    r"see (more|also)", r"top stories", r"tags?", r"topics?", r"filed under", r"more stories",
    r"what do you think", r"tell us what you think", r"(follow|subscribe)( us)?",
    r"sign up", r"subscribe( now| today)?", r"skip (to|ad)", r"(photo|image|video) gallery",
    r"(previous|next)( post| article| story)?", r"back to top", r"rate this( article)?",
    r"this (article|story) (is|was) (closed|locked) for comments",
    r"(most )?(read|popular|viewed|shared)( stories| articles)? (in|on) .{1,40}",
    r"more", r"(order )?reprints", r"print( this)? (article|story|page)",
    r"(e-?mail|send) (this )?(article|story)",
    r"this (article|story) has been sent to.*",
    # de
    r"weiterlesen", r"mehr (zum thema|lesen|dazu)", r"teilen", r"(artikel )?drucken",
    r"anzeige", r"werbung", r"kommentare?", r"kommentar schreiben", r"(\d+|keine) kommentare",
    r"das könnte sie auch interessieren", r"auch interessant", r"empfehlungen",
    r"schlagwörter", r"themen", r"zum thema", r"meistgelesen", r"bitte warten",
    # fr
    r"lire (aussi|la suite|plus)", r"à lire aussi", r"voir aussi", r"partager", r"publicité",
    r"commentaires?", r"(\d+|aucun) commentaires?", r"laisser un commentaire",
    r"sur le même sujet", r"vous aimerez aussi", r"articles? (similaires|liés)", r"mots[- ]clés",
    r"les plus lus", r"laisser une réponse", r"veuillez patienter",
    # es
    r"leer más", r"lee también", r"compartir", r"publicidad", r"comentarios?",
    r"(\d+|sin) comentarios", r"deja (un comentario|una respuesta)", r"noticias relacionadas",
    r"(artículos|entradas) relacionad[oa]s", r"te puede interesar", r"etiquetas",
    r"lo más (leído|visto)", r"por favor espere",
    # it
    r"leggi (anche|di più)", r"condividi", r"pubblicità", r"commenti", r"(\d+|nessun) commenti?",
    r"lascia un commento", r"articoli correlati", r"potrebbe interessarti", r"i più letti",
    # pt
    r"leia (também|mais)", r"veja também", r"saiba mais", r"compartilh(e|ar)", r"publicidade",
    r"comentários?", r"(\d+|sem) comentários", r"deixe (um comentário|uma resposta)",
    r"(notícias|posts|artigos) relacionad[oa]s", r"mais lidas",
    # zh
    r"相关(阅读|文章|新闻|推荐|链接)", r"延伸阅读", r"推荐阅读", r"(阅读|查看)(更多|全文|原文)",
    r"更多(阅读|精彩|新闻)", r"分享(到)?", r"发表评论", r"评论", r"(\d+|暂无)条?评论", r"打印",
    r"返回(顶部|首页)", r"热门(文章|新闻|推荐)", r"广告", r"点赞", r"收藏",
)

# A short line that *starts* with one of these is boilerplate ("Read more: <headline>").
BOILERPLATE_PREFIXES: tuple[str, ...] = (
    # en
    r"(read|see) (more|also)\s*[:|»>]", r"related( stories| articles| coverage| content)?\s*:",
    r"more\s*:", r"also (read|on|see)\s*[:|]", r"also read\b", r"recommended\s*:",
    r"(watch|listen)\s*:", r"click here\b", r"tap here\b", r"follow (us|me|him|her|them)\b",
    r"follow [\w@.' -]{1,40} on (twitter|facebook|instagram|linkedin|youtube|tiktok)",
    r"(sign up|subscribe|register) (for|to|now|today|here)\b", r"get (the|our) .{0,60}newsletter",
    r"get the latest .{0,60}(inbox|email)", r"your email address will not be published",
    r"required fields are marked", r"this (web)?site uses cookies", r"we use cookies",
    r"by (using|continuing to use) this (web)?site", r"like this (story|article)\?",
    r"share (this|on|via)\b", r"(copyright|©|\(c\))\s*\d{4}", r"all rights reserved",
    r"this copy is for your personal,? non-?commercial use", r"(photo|image|picture|video)"
    r" (credit|source|courtesy)s?\b", r"(photo|image|credit|source|foto|fuente|crédit)s?\s*:",
    r"(additional )?(reporting|editing|writing) by\b", r"(have a|got a) (news )?tip\b",
    r"email (the )?(author|writer|reporter)\b", r"contact (the )?(author|writer|reporter)\b",
    r"(this|the) (article|story) (originally|first) appeared\b", r"advertisement\b",
    r"(posted|filed|published) (in|under)\s*:", r"tags?\s*:", r"topics?\s*:",
    r"related (post|posts|reading|link|links)\s*:", r"more [\w .'’-]{1,40}:\s*(https?://|www\.)",
    r"(note: )?(we are |we're )?(temporarily )?moderating (all )?comments",
    r"also on [\w-]+(\.[\w-]+)+\b",
    r"if you (enjoyed|liked|value|appreciate)d? (this|our) (article|story|post|journalism|work)",
    r"follow [\w@.'’ -]{1,40}(full|complete|live|latest) coverage\b",
    r"(copyright|©)\s.{0,60}\b(19|20)\d\d\b",
    r"\d+\s*(min|mins|minutes?|minuten|minutos|minuti)\.? "
    r"(read|de lectura|di lettura|de leitura)\b",
    r"(reading time|lesezeit|lesedauer|temps de lecture|tiempo de lectura|tempo di lettura|"
    r"tempo de leitura)\s*:?",
    r"previous (post|article)\s*:", r"next (post|article)\s*:", r"view (all|more|comments)\b",
    r"join the (conversation|discussion)\b", r"comments? (are|is) (closed|moderated)",
    # de
    r"(lesen sie|lies) (auch|mehr|hier)\b", r"mehr (zum thema|dazu)\s*:", r"weiterlesen\b",
    r"auch interessant\s*:", r"(jetzt )?(newsletter )?abonnieren\b", r"newsletter\s*:",
    r"melden sie sich .{0,40}newsletter", r"folgen sie (uns|\w+) auf\b",
    r"ihre e-?mail-?adresse wird nicht veröffentlicht", r"erforderliche felder sind",
    r"diese (web)?seite (verwendet|nutzt) cookies", r"wir verwenden cookies",
    r"alle rechte vorbehalten", r"(foto|bild|quelle|fotos)\s*:", r"teilen (sie )?auf\b",
    r"mitarbeit\s*:", r"schlagwörter\s*:", r"themen\s*:",
    # fr
    r"(à )?lire (aussi|également|la suite)\b", r"voir aussi\s*:", r"sur le même sujet\s*:",
    r"abonnez-vous\b", r"inscrivez-vous\b", r"suivez-(nous|le|la)\b",
    r"votre adresse (e-?mail|de messagerie|courriel) ne sera pas publiée",
    r"les champs obligatoires sont", r"ce site utilise des cookies",
    r"nous utilisons des cookies", r"tous droits réservés", r"partager (sur|cet article)\b",
    r"(crédits? )?photos?\s*:", r"mots[- ]clés\s*:",
    # es
    r"(lee|leer|lea) (también|más)\b", r"te puede interesar\s*:", r"suscríbete\b",
    r"regístrate\b", r"síguenos\b", r"tu (dirección de )?correo electrónico no será publicad",
    r"los campos obligatorios están marcados", r"este sitio (web )?utiliza cookies",
    r"utilizamos cookies", r"todos los derechos reservados", r"compartir en\b",
    r"etiquetas\s*:", r"(más|mas) información\s*:",
    # it
    r"leggi (anche|di più)\b", r"iscriviti\b", r"seguici\b",
    r"il tuo indirizzo email non sarà pubblicato", r"i campi obbligatori sono",
    r"questo sito (web )?utilizza (i )?cookie", r"tutti i diritti riservati",
    r"condividi su\b", r"potrebbe interessarti\s*:",
    # pt
    r"leia (também|mais)\b", r"veja também\b", r"saiba mais\s*:", r"inscreva-se\b",
    r"assine\b", r"siga-nos\b", r"o seu (endereço de )?e-?mail não será publicado",
    r"campos obrigatórios são marcados", r"este site (utiliza|usa) cookies",
    r"todos os direitos reservados", r"compartilhe\b", r"compartilhar (no|em)\b",
    # zh
    r"(相关阅读|延伸阅读|推荐阅读|相关新闻|相关文章)", r"阅读(时间|时长)",
    r"(责任编辑|责编|编辑|来源|作者|记者|原标题|图片来源)\s*[:：]",
    r"(本文|文章)来源", r"版权(所有|声明)", r"免责声明", r"(扫描|扫码|扫一扫)",
    r"关注(我们|微信|公众号)",
    r"点击(查看|阅读|进入|下载|这里)", r"分享到", r"(转载|未经授权)",
)

_WHOLE = re.compile(
    r"(?:" + "|".join(BOILERPLATE_WHOLE) + r")", re.IGNORECASE
)
_PREFIX = re.compile(r"(?:" + "|".join(BOILERPLATE_PREFIXES) + r")", re.IGNORECASE)
_TRIM = " \t\u00a0.:!?…|»«>-–—•·*()[]{}\"'“”‘’：。！？、"
_MAX_PREFIX_WORDS = 40
_MAX_CONTACT_WORDS = 30
_MIN_KEYWORDS = 6
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
_SOCIAL_URL = re.compile(
    r"(https?://)?(www\.)?(twitter|x|facebook|instagram|linkedin|tiktok|youtube)\.com/\S+"
)
_HANDLE = re.compile(r"(^|\s)@\w{2,}|twitter\.com/|facebook\.com/|instagram\.com/")
_CONTACT_START = re.compile(
    r"(e-?mail|write to|contact|reach|follow|have a tip|got a tip|send|schreiben sie|"
    r"écrivez|escriba|scrivi)\b", re.IGNORECASE
)
_NEWSLETTER = re.compile(r"newsletter|inbox|boletín|infolettre|lettre d'information|邮件订阅|"
                         r"e-?mail alerts?", re.IGNORECASE)
_SIGNUP = re.compile(
    r"sign(ing)? up|subscrib|register|delivered|abonnier|anmelden|abonnez|inscri|suscr|iscriv|"
    r"assin|inscreva|订阅", re.IGNORECASE
)
# "... contributed to this report." and "(Reporting by ...)" credit lines
_CREDIT_END = re.compile(
    r"(contributed (reporting )?to this (report|story|article)|ha(s|ve) contributed to this "
    r"(report|story))\W*$", re.IGNORECASE
)

_MONTHS = (
    "january|february|march|april|may|june|july|august|september|october|november|december|"
    "jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec|"
    "januar|jänner|februar|märz|mai|juni|juli|oktober|dezember|"
    "janvier|février|mars|avril|juin|juillet|août|septembre|octobre|novembre|décembre|"
    "enero|febrero|marzo|abril|mayo|junio|julio|agosto|septiembre|setiembre|octubre|noviembre|"
    "diciembre|gennaio|febbraio|aprile|maggio|giugno|luglio|settembre|ottobre|dicembre|"
    "janeiro|fevereiro|março|maio|junho|julho|setembro|outubro|novembro|dezembro"
)
_DAYS = (
    "monday|tuesday|wednesday|thursday|friday|saturday|sunday|mon|tue|tues|wed|thu|thur|thurs|"
    "fri|sat|sun|montag|dienstag|mittwoch|donnerstag|freitag|samstag|sonntag|lundi|mardi|"
    "mercredi|jeudi|vendredi|samedi|dimanche|lunes|martes|miércoles|jueves|viernes|sábado|"
    "domingo|lunedì|martedì|mercoledì|giovedì|venerdì|sabato|domenica|segunda|terça|quarta|"
    "quinta|sexta|feira|today|yesterday|heute|gestern|aujourd|hier|hoy|ayer|oggi|ieri|hoje|ontem"
)
_DATE_FILLER = (
    "published|updated|posted|modified|last|on|at|am|pm|a|p|m|et|est|edt|pst|pdt|gmt|utc|cet|cest|"
    "bst|uhr|um|am|aktualisiert|veröffentlicht|stand|le|à|h|mis|jour|publié|de|del|el|a|las|"
    "actualizado|publicado|às|em|il|alle|ore|aggiornato|pubblicato|the|of|th|st|nd|rd|er|"
    "min|mins|minutes|hours|hour|ago|read|reading|time|vor|stunden|minuten|il|y|a|hace|horas"
)
_DATE_WORD = re.compile(rf"(?:{_MONTHS}|{_DAYS}|{_DATE_FILLER})", re.IGNORECASE)
_NUMERIC_DATE = re.compile(r"\d{1,4}[./-]\d{1,2}[./-]\d{1,4}|\d{1,2}:\d{2}|\d{4}年\d{1,2}月")
_TOKEN = re.compile(r"\w+", re.UNICODE)
_BY_TAIL = re.compile(r"\s+(?:by|von|par|por|di)\s+([^\d]+)$", re.IGNORECASE)
_BYLINE = re.compile(
    r"(by|von|par|por|di|da|door|av|от|作者[:：]?|文[/／]|记者)\s+\S.{0,80}", re.IGNORECASE
)


def _trim(line: str) -> str:
    return line.strip(_TRIM).strip()


def _is_contact_line(core: str, n_words: int) -> bool:
    """"Email the author at x@y", "Follow her on Twitter @x", or a bare e-mail address."""
    if _EMAIL.fullmatch(core) or _SOCIAL_URL.fullmatch(core):
        return True
    return n_words <= _MAX_CONTACT_WORDS and bool(_CONTACT_START.match(core)) and bool(
        _EMAIL.search(core) or _HANDLE.search(core)
    )


def _is_signup_line(core: str, n_words: int) -> bool:
    """A short call to subscribe to a newsletter, in any of the supported languages."""
    return n_words <= _MAX_PREFIX_WORDS and bool(_NEWSLETTER.search(core)) and bool(
        _SIGNUP.search(core)
    )


def is_keyword_list(line: str) -> bool:
    """A comma-separated run of short lower-case keywords ("tag a, tag b, tag c, ..."). Only
    template text at a story's head or foot (a tag line); inside the text it is a real list
    ("Legumes: peas, lentils, beans"), so :func:`is_boilerplate_line` does not include it."""
    core = _trim(" ".join(line.split()))
    items = [i.strip() for i in re.split(r"[,;，、]", core)]
    if len(items) < _MIN_KEYWORDS or core.endswith("."):
        return False
    return all(0 < len(i.split()) <= 4 for i in items) and (
        sum(1 for i in items if i[:1].islower()) >= 0.8 * len(items)
    )


def is_boilerplate_line(line: str) -> bool:
    """True if the whole line is template text: a widget label, share prompt, teaser or notice."""
    core = _trim(" ".join(line.split()))
    if not core:
        return True
    if _WHOLE.fullmatch(core):
        return True
    n_words = len(core.split())
    if n_words <= _MAX_PREFIX_WORDS and (_PREFIX.match(core) or _CREDIT_END.search(core)):
        return True
    return (
        _is_contact_line(core, n_words)
        or _is_signup_line(core, n_words)
    )


def is_dateline(line: str) -> bool:
    """True for a line that only gives a date or time ("Updated 18 Nov 2019, 14:05 GMT"),
    possibly followed by a short byline ("... by Jane Doe")."""
    m = _BY_TAIL.search(line)
    if m and len(m.group(1).split()) <= 4:
        line = line[: m.start()]
    tokens = _TOKEN.findall(line)
    if not tokens or len(tokens) > 14:
        return False
    has_digit = any(t.isdigit() for t in tokens) or bool(_NUMERIC_DATE.search(line))
    if not has_digit:
        return False
    dateish = sum(1 for t in tokens if t.isdigit() or _DATE_WORD.fullmatch(t))
    has_marker = bool(_NUMERIC_DATE.search(line)) or any(
        _DATE_WORD.fullmatch(t) and not t.isdigit() and t.lower() not in {"a", "on", "at", "de"}
        for t in tokens
    )
    return has_marker and dateish >= max(2, len(tokens) - 1)


def is_byline(line: str, authors: tuple[str, ...] = ()) -> bool:
    """True for a short "By Jane Doe" line, or a line that is just the page's author names."""
    core = _trim(" ".join(line.split()))
    words = core.split()
    if not words or len(words) > 12:
        return False
    folded = core.casefold()
    names = [a.casefold() for a in authors if a]
    if names and folded in names:
        return True
    if _BYLINE.fullmatch(core) and len(words) <= 8:
        rest = core.split(None, 1)[1] if len(words) > 1 else ""
        # a byline names people: mostly capitalised words, no sentence punctuation
        caps = [w for w in rest.split() if w[:1].isupper()]
        return bool(rest) and not rest.rstrip().endswith((".", "?", "!")) and (
            len(caps) >= max(1, len(rest.split()) // 2) or any(n in folded for n in names)
        )
    return False
