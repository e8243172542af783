"""Sign-in to the pages: nothing without it, the static token's cookie, the ALB's OIDC token."""

from __future__ import annotations

import httpx
from pages_world import ALB_ARN, TOKEN, alb_token, forge_alg_none, token_env

from opsgate.web.auth import SESSION_COOKIE
from opsgate.web.pages.site import CONTENT_SECURITY_POLICY

PAGES = ("/", "/requests", "/audit", "/environments", "/audit/export")


def alb_env(keys) -> dict[str, str]:
    return {"OPSGATE_ALB_ARN": ALB_ARN, "OPSGATE_ALB_KEY_URL": keys.url_template}


def test_without_a_configured_sign_in_every_page_refuses_and_says_how_to_set_it_up(signin_world):
    world = signin_world()
    for path in PAGES:
        answer = world.http.get(path)
        assert answer.status_code == 401, path
        assert "OPSGATE_ALB_ARN" in answer.text and "OPSGATE_WEB_TOKEN" in answer.text
        assert answer.headers["content-security-policy"] == CONTENT_SECURITY_POLICY


def test_a_page_without_a_session_asks_to_sign_in(signin_world):
    world = signin_world(token_env("erin"))
    answer = world.http.get("/audit")
    assert answer.status_code == 401 and "Please sign in" in answer.text
    assert "Hash chain" not in answer.text


def test_the_sign_in_link_sets_a_strict_http_only_cookie_and_opens_the_overview(signin_world):
    world = signin_world(token_env("erin"))
    answer = world.http.get("/signin", params={"token": TOKEN, "next": "/audit"})
    assert answer.status_code == 303 and answer.headers["location"] == "/audit"
    cookie = answer.headers["set-cookie"]
    assert cookie.startswith(f"{SESSION_COOKIE}=") and "HttpOnly" in cookie and "SameSite=strict" in cookie
    assert "Path=/" in cookie
    page = world.http.get("/audit")
    assert page.status_code == 200 and "Erin Example" in page.text


def test_a_wrong_token_is_refused_and_sets_no_cookie(signin_world):
    world = signin_world(token_env("erin"))
    answer = world.http.get("/signin", params={"token": TOKEN[:-1] + "x"})
    assert answer.status_code == 403 and "not valid" in answer.text
    assert "set-cookie" not in answer.headers
    assert world.http.get("/").status_code == 401


def test_sign_in_goes_back_only_to_paths_on_this_site(signin_world):
    world = signin_world(token_env("erin"))
    for target in ("https://evil.example.com/", "//evil.example.com/x", "/\\evil.example.com"):
        answer = world.http.get("/signin", params={"token": TOKEN, "next": target})
        assert answer.headers["location"] == "/", target


def test_a_forged_session_cookie_is_not_a_sign_in(signin_world):
    world = signin_world(token_env("erin"))
    genuine = world.signed_in().cookies[SESSION_COOKIE]
    forged = httpx.Client(base_url=world.url, cookies={SESSION_COOKIE: genuine[:-2] + "AA"})
    assert forged.get("/").status_code == 401


def test_a_session_ends_when_the_token_changes(signin_world):
    first = signin_world(token_env("erin"))
    cookie = first.signed_in().cookies[SESSION_COOKIE]
    second = signin_world({"OPSGATE_WEB_TOKEN": "another-token-9876543210", "OPSGATE_WEB_TOKEN_PERSON": "erin"})
    assert httpx.Client(base_url=second.url, cookies={SESSION_COOKIE: cookie}).get("/").status_code == 401


def test_sign_out_clears_the_cookie(signin_world):
    world = signin_world(token_env("erin"))
    client = world.signed_in()
    answer = client.post("/signout")
    assert answer.status_code == 303 and 'opsgate_session=""' in answer.headers["set-cookie"]
    assert client.get("/").status_code == 401


def test_a_link_followed_from_another_site_reloads_once_to_carry_the_strict_cookie(signin_world):
    world = signin_world(token_env("erin"))
    answer = world.http.get("/requests/r-00000000", headers={"Sec-Fetch-Site": "cross-site"})
    assert answer.status_code == 200 and 'http-equiv="refresh"' in answer.text
    assert world.http.get("/requests/r-00000000", headers={"Sec-Fetch-Site": "same-origin"}).status_code == 401


def test_a_person_without_a_role_sees_a_clear_403(signin_world):
    world = signin_world(token_env("nora"))
    answer = world.signed_in().get("/")
    assert answer.status_code == 403 and "no role" in answer.text
    assert "Overview" not in answer.text.split("<main>")[1]


# -- behind the ALB --------------------------------------------------------------------------------

def test_a_valid_alb_token_signs_in_the_person_with_that_oidc_id(signin_world, alb_keys):
    world = signin_world(alb_env(alb_keys))
    key = alb_keys.new_key("kid-1")
    token = alb_token(key, "kid-1", {"sub": "sub-erin", "email": "erin@example.com", "exp": world.clock.now().timestamp() + 60})
    answer = world.http.get("/audit", headers={"x-amzn-oidc-data": token})
    assert answer.status_code == 200 and "Erin Example" in answer.text


def test_the_alb_key_is_fetched_once_and_cached(signin_world, alb_keys):
    world = signin_world(alb_env(alb_keys))
    key = alb_keys.new_key("kid-1")
    token = alb_token(key, "kid-1", {"sub": "sub-erin", "exp": world.clock.now().timestamp() + 60}, padded=False)
    for _ in range(3):
        assert world.http.get("/", headers={"x-amzn-oidc-data": token}).status_code == 200
    assert alb_keys.fetches == ["/eu-west-1/kid-1"]


def test_a_token_signed_with_another_key_is_refused(signin_world, alb_keys):
    world = signin_world(alb_env(alb_keys))
    alb_keys.new_key("kid-1")
    from cryptography.hazmat.primitives.asymmetric import ec

    stranger = ec.generate_private_key(ec.SECP256R1())
    token = alb_token(stranger, "kid-1", {"sub": "sub-erin", "exp": world.clock.now().timestamp() + 60})
    answer = world.http.get("/audit", headers={"x-amzn-oidc-data": token})
    assert answer.status_code == 401 and "signature does not verify" in answer.text
    assert "Hash chain" not in answer.text


def test_an_expired_alb_token_is_refused(signin_world, alb_keys):
    world = signin_world(alb_env(alb_keys))
    key = alb_keys.new_key("kid-1")
    token = alb_token(key, "kid-1", {"sub": "sub-erin", "exp": world.clock.now().timestamp() - 120})
    answer = world.http.get("/", headers={"x-amzn-oidc-data": token})
    assert answer.status_code == 401 and "expired" in answer.text


def test_a_token_valid_now_expires_when_the_clock_passes_it(signin_world, alb_keys):
    world = signin_world(alb_env(alb_keys))
    key = alb_keys.new_key("kid-1")
    token = alb_token(key, "kid-1", {"sub": "sub-erin", "exp": world.clock.now().timestamp() + 60})
    assert world.http.get("/", headers={"x-amzn-oidc-data": token}).status_code == 200
    world.clock.advance(seconds=120)
    assert world.http.get("/", headers={"x-amzn-oidc-data": token}).status_code == 401


def test_a_token_from_another_load_balancer_is_refused(signin_world, alb_keys):
    world = signin_world(alb_env(alb_keys))
    key = alb_keys.new_key("kid-1")
    other = ALB_ARN.replace("/ops/", "/other/")
    token = alb_token(key, "kid-1", {"sub": "sub-erin", "exp": world.clock.now().timestamp() + 60}, signer=other)
    answer = world.http.get("/", headers={"x-amzn-oidc-data": token})
    assert answer.status_code == 401 and "another load balancer" in answer.text
    assert alb_keys.fetches == []  # refused before any key was fetched


def test_unsigned_and_garbled_tokens_are_refused(signin_world, alb_keys):
    world = signin_world(alb_env(alb_keys))
    alb_keys.new_key("kid-1")
    exp = world.clock.now().timestamp() + 60
    for token in (forge_alg_none("kid-1", {"sub": "sub-erin", "exp": exp}), "not-a-jwt", "a.b.c"):
        assert world.http.get("/", headers={"x-amzn-oidc-data": token}).status_code == 401, token


def test_a_key_id_that_is_not_a_plain_name_is_never_fetched(signin_world, alb_keys):
    world = signin_world(alb_env(alb_keys))
    key = alb_keys.new_key("kid-1")
    token = alb_token(key, "../../etc/passwd", {"sub": "sub-erin", "exp": world.clock.now().timestamp() + 60})
    assert world.http.get("/", headers={"x-amzn-oidc-data": token}).status_code == 401
    assert alb_keys.fetches == []


def test_an_unknown_key_id_is_asked_about_once_then_refused_from_memory(signin_world, alb_keys):
    world = signin_world(alb_env(alb_keys))
    key = alb_keys.new_key("kid-1")
    token = alb_token(key, "kid-missing", {"sub": "sub-erin", "exp": world.clock.now().timestamp() + 60})
    for _ in range(3):
        assert world.http.get("/", headers={"x-amzn-oidc-data": token}).status_code == 401
    assert alb_keys.fetches == ["/eu-west-1/kid-missing"]


def test_a_valid_token_for_someone_not_in_the_catalog_gets_403(signin_world, alb_keys):
    world = signin_world(alb_env(alb_keys))
    key = alb_keys.new_key("kid-1")
    token = alb_token(key, "kid-1", {"sub": "sub-stranger", "exp": world.clock.now().timestamp() + 60})
    answer = world.http.get("/", headers={"x-amzn-oidc-data": token})
    assert answer.status_code == 403 and "oidc:sub-stranger" in answer.text


def test_the_email_claim_can_be_the_identity(signin_world, alb_keys):
    world = signin_world({**alb_env(alb_keys), "OPSGATE_OIDC_CLAIM": "email"})
    key = alb_keys.new_key("kid-1")
    by_sub = alb_token(key, "kid-1", {"sub": "sub-erin", "email": "nobody@example.com",
                                      "exp": world.clock.now().timestamp() + 60})
    assert world.http.get("/", headers={"x-amzn-oidc-data": by_sub}).status_code == 403  # the sub is not looked at
