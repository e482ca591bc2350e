"""The error catalogue in Hungarian: the same names and keys as ``backfuture.errors``.

Written for readers of the Hungarian connection guide, in the formal address (magázás) a financial
service uses. Terms follow the Hungarian interfaces of the exchanges: API-kulcs, titkos kulcs
(Secret Key), API-jelmondat (passphrase), IP-fehérlista, kifizetés (withdrawal), spot and határidős
(futures). ``{ips}`` and ``{exchange}`` are filled from configuration and the exchange catalogue.

Adding a code to ``backfuture.errors`` means adding its entry here as well;
tests/unit/test_languages.py fails until every code has one.
"""

from __future__ import annotations

from backfuture.errors import ErrorCode, Explanation, Outcome, WarningCode

REQUEST_ERRORS: dict[ErrorCode, Explanation] = {
    ErrorCode.UNAUTHORIZED: Explanation(
        "Nincs bejelentkezve.", "Jelentkezzen be újra, és próbálja meg ismét."
    ),
    ErrorCode.NOT_FOUND: Explanation(
        "Nincs ilyen kapcsolat.",
        "Ellenőrizze a kapcsolat azonosítóját; a kapcsolatai listájában megtalálja.",
    ),
    ErrorCode.NAME_TAKEN: Explanation(
        "Már van ilyen nevű kapcsolata.",
        "Válasszon másik nevet; a neveknél a kis- és nagybetűket nem különböztetjük meg.",
    ),
    ErrorCode.KEY_ALREADY_CONNECTED: Explanation(
        "Ez az API-kulcs már egy másik kapcsolathoz tartozik a platformon.",
        "Hozzon létre a tőzsdén külön API-kulcsot ehhez a kapcsolathoz.",
    ),
    ErrorCode.VALIDATION_ERROR: Explanation(
        "Néhány mező hiányzik vagy hibás.",
        "Javítsa a details részben felsorolt mezőket, majd küldje el újra.",
    ),
    ErrorCode.UNSUPPORTED_EXCHANGE: Explanation(
        "Ezt a tőzsdét nem támogatjuk.", "Válasszon a támogatott tőzsdék közül."
    ),
    ErrorCode.CONNECTION_LIMIT_REACHED: Explanation(
        "Elérte a kapcsolatok legnagyobb megengedett számát.",
        "Töröljön egy már nem használt kapcsolatot, majd adja hozzá az újat.",
    ),
    ErrorCode.TEST_COOLDOWN: Explanation(
        "Ezt a kapcsolatot az imént tesztelték.",
        "Várjon annyi másodpercet, amennyit a details.retry_after_s mutat, majd tesztelje újra.",
    ),
    ErrorCode.QUOTA_EXCEEDED: Explanation(
        "Elérte a keretét: túl sok tesztet futtatott ebben az órában, vagy túl sok kapcsolatot hozott "
        "létre ma.",
        "Várjon annyi másodpercet, amennyit a details.retry_after_s (és a Retry-After fejléc) mutat, majd "
        "próbálja újra.",
    ),
    ErrorCode.CONFLICT: Explanation(
        "A kapcsolat megváltozott, miközben a kérése feldolgozás alatt volt.",
        "Töltse be újra a kapcsolatot, és próbálja meg ismét.",
    ),
    ErrorCode.PAYLOAD_TOO_LARGE: Explanation(
        "A kérés törzse túl nagy.", "Csak a dokumentált mezőket küldje el."
    ),
    ErrorCode.UNSUPPORTED_MEDIA_TYPE: Explanation(
        "A kérés törzsét JSON formátumban kell elküldeni.",
        "Küldje a törzset JSON-ként, Content-Type: application/json fejléccel.",
    ),
    ErrorCode.SERVICE_UNAVAILABLE: Explanation(
        "A szolgáltatás átmenetileg nem érhető el.",
        "Próbálja újra néhány másodperc múlva; az ismételt kérés befejezi a műveletet.",
    ),
    ErrorCode.INTERNAL_ERROR: Explanation(
        "Hiba történt a mi oldalunkon.",
        "Próbálja újra; ha a hiba továbbra is fennáll, forduljon az ügyfélszolgálathoz.",
    ),
}

MESSAGE_VARIANTS: dict[tuple[ErrorCode, str], str] = {
    (ErrorCode.NOT_FOUND, "route"): "Nincs ilyen útvonal.",
    (ErrorCode.UNSUPPORTED_EXCHANGE, "planned"): (
        "Ezt a tőzsdét ({exchange}) tervezzük támogatni, de egyelőre nem érhető el."
    ),
    (ErrorCode.CONFLICT, "changed_during_test"): (
        "A kapcsolat megváltozott (kulcs, piacok vagy név), vagy törölték, miközben a teszt futott."
    ),
}

OUTCOMES: dict[Outcome, Explanation] = {
    Outcome.INVALID_KEY: Explanation(
        "A tőzsde nem fogadja el ezt az API-kulcsot és titkos kulcsot: elképzelhető, hogy hibásan "
        "másolta ki őket, a kulcsot törölték vagy lejárt, esetleg a tőzsde egy másik oldalán (regionális "
        "oldalon, tesztkörnyezetben vagy demó kereskedésben) hozta létre. Egyes tőzsdék ugyanígy "
        "válaszolnak akkor is, ha a kulcs IP-fehérlistáján nem szerepelnek a platform IP-címei.",
        "Másolja ki újra az API-kulcsot és a titkos kulcsot, vagy hozzon létre új kulcsot a tőzsde fő "
        "oldalán, és ellenőrizze, hogy az IP-fehérlistáján szerepel-e: {ips}. "
        "Csak a tőzsde által Önnek generált kulcsokat támogatjuk, a saját RSA- vagy Ed25519-nyilvános "
        "kulcsával regisztrált kulcsokat nem.",
    ),
    Outcome.INVALID_PASSPHRASE: Explanation(
        "A tőzsde elutasította az API-jelmondatot. Ez az a jelmondat, amelyet az API-kulcs "
        "létrehozásakor adott meg, nem a belépési vagy a kereskedési jelszava; egyes tőzsdék a hibás "
        "titkos kulcsot is így jelzik.",
        "Adja meg a kulcs létrehozásakor beállított jelmondatot, és másolja ki újra a titkos kulcsot is; "
        "ha a jelmondatra már nem emlékszik, hozzon létre új kulcsot.",
    ),
    Outcome.NO_READ_PERMISSION: Explanation(
        "A kulcs nem tudja lekérdezni az egyenlegeket és a megbízásokat.",
        "Engedélyezze a kulcs olvasási jogosultságát a tőzsdén.",
    ),
    Outcome.NO_TRADE_PERMISSION: Explanation(
        "Ennél a kulcsnál nincs engedélyezve a kereskedés.",
        "Engedélyezze a kulcs kereskedési jogosultságát, a kifizetést viszont hagyja letiltva.",
    ),
    Outcome.FUTURES_API_UNAVAILABLE: Explanation(
        "Határidős kereskedést kért, de a tőzsde jelenleg nem fogad határidős megbízásokat API-n "
        "keresztül, így ezen a kulcs semmilyen beállítása nem segít.",
        "Kapcsolja ezt a kulcsot csak a spot piacra, vagy kereskedjen határidős termékekkel egy másik "
        "tőzsdén.",
    ),
    Outcome.FUTURES_NOT_ENABLED: Explanation(
        "Határidős kereskedést kért, de ennek a kulcsnak vagy a fióknak nincs hozzáférése a határidős "
        "piachoz.",
        "Engedélyezze a kulcs határidős (futures) jogosultságát (és nyisson határidős számlát), vagy "
        "kapcsolja a kulcsot csak a spot piacra.",
    ),
    Outcome.WITHDRAWAL_ENABLED: Explanation(
        "Ezzel a kulccsal pénzt lehet kivenni vagy átutalni a számlájáról. Biztonsága érdekében "
        "elutasítottuk, és a titkos kulcsát azonnal megsemmisítettük.",
        "Hozzon létre új API-kulcsot letiltott kifizetéssel (és átutalással), majd cserélje le vele a "
        "kapcsolat kulcsadatait.",
    ),
    Outcome.IP_NOT_ALLOWED: Explanation(
        "A kulcs IP-fehérlistáján nem szerepelnek a platform IP-címei.",
        "Adja hozzá a tőzsdén a kulcs IP-fehérlistájához a következő címeket: {ips}.",
    ),
    Outcome.CLOCK_SKEW: Explanation(
        "A tőzsde az órák újbóli egyeztetése után is elutasította a kérés időbélyegét.",
        "Futtassa újra a tesztet; ha a hiba továbbra is fennáll, forduljon az ügyfélszolgálathoz.",
    ),
    Outcome.ACCOUNT_RESTRICTED: Explanation(
        "A tőzsdei fiókját korlátozták: zárolták, még folyamatban van a személyazonosság-ellenőrzése "
        "(KYC), vagy területi korlátozás vonatkozik rá.",
        "Rendezze a korlátozást a tőzsdével, majd tesztelje újra a kapcsolatot.",
    ),
    Outcome.RATE_LIMITED: Explanation(
        "A tőzsde jelenleg korlátozza a kérések számát, ezért a kulcsot nem tudtuk ellenőrizni.",
        "Várjon annyi másodpercet, amennyit a details.retry_after_s mutat, majd futtassa újra a tesztet.",
    ),
    Outcome.EXCHANGE_UNAVAILABLE: Explanation(
        "A tőzsde API-ja nem működik, karbantartás alatt áll, vagy nem válaszolt időben, ezért a "
        "kulcsot nem tudtuk ellenőrizni.",
        "Várjon néhány percet, majd futtassa újra a tesztet.",
    ),
    Outcome.EXCHANGE_ERROR: Explanation(
        "A tőzsde olyan választ adott, amelyet a platform nem ismer.",
        "Forduljon az ügyfélszolgálathoz, és adja meg a details részben szereplő tőzsdei kódot.",
    ),
}

OUTCOME_VARIANTS: dict[tuple[Outcome, str], Explanation] = {
    (Outcome.INVALID_KEY, "legacy_key"): Explanation(
        "Ez egy régi típusú Coinbase API-kulcs (a Coinbase 2025 februárjában megszüntette ezeket) vagy "
        "Coinbase Exchange- (korábban Pro-) kulcs; az Advanced Trade csak CDP API-kulcsot fogad el.",
        "Hozzon létre CDP API-kulcsot az Advanced Trade-hez a Coinbase Developer Platformon View és Trade "
        "(Transfer nélküli) joggal, engedélyezze ezeket a címeket: {ips}, majd illessze be a kulcs nevét "
        "és a privát kulcsot.",
    ),
    (Outcome.INVALID_KEY, "unreadable_private_key"): Explanation(
        "A titkos kulcs nem olyan privát kulcs, amilyet ez a tőzsde kiad: sem PEM formátumú EC (ES256) "
        "privát kulcs, sem Ed25519-kulcs.",
        "Másolja ki a teljes privát kulcsot a tőzsdétől kapott kulcsfájlból a -----BEGIN sortól a "
        "-----END sorig (vagy az Ed25519 titkos kulcsot), és cserélje le vele a hitelesítő adatokat.",
    ),
}

WARNINGS: dict[WarningCode, Explanation] = {
    WarningCode.IP_RESTRICTION_MISSING: Explanation(
        "A kulcshoz nincs IP-fehérlista beállítva, így aki megszerzi, bárhonnan használhatja.",
        "Javasoljuk, hogy korlátozza a kulcs használatát ezekre a címekre: {ips}.",
    ),
    WarningCode.IP_WHITELIST_MISMATCH: Explanation(
        "A kulcs IP-fehérlistájáról hiányzik a platform néhány IP-címe; az ezekről a címekről "
        "indított tesztek és megbízások sikertelenek lesznek.",
        "Adja hozzá a kulcs IP-fehérlistájához a következő címeket: {ips}.",
    ),
    WarningCode.WITHDRAW_UNVERIFIABLE: Explanation(
        "A tőzsde nem közli, hogy ezzel a kulccsal lehet-e pénzt kivenni, ezért a kapcsolat addig "
        "nem használható kereskedésre, amíg meg nem erősíti, hogy a kifizetés le van tiltva.",
        "Ellenőrizze a tőzsdén, hogy ennél a kulcsnál le van-e tiltva a kifizetés, majd erősítse meg "
        "ezt a kapcsolatnál (withdrawal_disabled_confirmed).",
    ),
    WarningCode.UNNEEDED_PERMISSION: Explanation(
        "A kulcsnak olyan jogosultsága is van, amelyre ennek a kapcsolatnak nincs szüksége.",
        "Kapcsolja ki a nem használt jogosultságokat (például a határidős kereskedést egy csak spot "
        "kapcsolatnál).",
    ),
    WarningCode.KEY_EXPIRES_SOON: Explanation(
        "A tőzsde szerint ez a kulcs hamarosan lejár.",
        "Még a lejárat előtt hozzon létre új kulcsot, és cserélje le vele a kapcsolat kulcsadatait.",
    ),
}

STATUS_LABELS: dict[str, str] = {
    "untested": "Nincs tesztelve",
    "connected": "Online",
    "failed": "Beavatkozás szükséges",
    "refused": "Elutasítva",
    "unavailable": "A tőzsde nem érhető el",
}

IP_JOINER = " és "
NO_IPS = "a platform IP-címei"
