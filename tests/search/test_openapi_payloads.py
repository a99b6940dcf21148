"""The OpenAPI document describes what the search routes really send.

Each response below comes from the real route (through the local fakes) and is validated against the
schema the document gives for that route and status, components resolved, the book components closed
(`additionalProperties: false` here): a wire field renamed, retyped, added or made optional without
the document following fails here.
"""

from __future__ import annotations

import jsonschema
import pytest

pytestmark = pytest.mark.django_db

KNOWN = "9780441172719"


@pytest.fixture(scope="module")
def document(django_db_blocker):
    from drf_spectacular.generators import SchemaGenerator

    with django_db_blocker.unblock():
        return SchemaGenerator().get_schema(request=None, public=True)


def as_json_schema(node):
    """OpenAPI 3.0's `nullable: true` as JSON Schema's type list."""
    if isinstance(node, dict):
        out = {k: as_json_schema(v) for k, v in node.items() if k != "nullable"}
        if node.get("nullable") and "type" in node:
            out["type"] = [node["type"], "null"]
        return out
    if isinstance(node, list):
        return [as_json_schema(v) for v in node]
    return node


STRICT = ("Work", "Edition", "Author", "V3Book", "SearchPayload")


def check(document, method: str, path: str, response) -> None:
    operation = document["paths"][path][method]
    documented = operation["responses"][str(response.status_code)]
    schema = documented["content"]["application/json"]["schema"]
    components = as_json_schema(document["components"])
    for name in STRICT:  # here, a field the document does not name is an error
        components["schemas"][name] = {**components["schemas"][name], "additionalProperties": False}
    validator = jsonschema.Draft7Validator({**as_json_schema(schema), "components": components})
    errors = sorted(validator.iter_errors(response.json()), key=lambda e: list(e.absolute_path))
    assert not errors, [f"{list(e.absolute_path)}: {e.message}" for e in errors[:5]]


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/v1/search/title", {"q": "Dune"}),
        ("/v1/search/title", {"q": "zzzz no such book qqqq"}),
        ("/v1/search/isbn", {"isbn": KNOWN}),
        ("/v1/search/isbn", {"isbn": "978-0-306-40615-7"}),
        ("/v1/search/advanced", {"title": "Dune", "author": "Frank Herbert"}),
        ("/v1/search/title", {"q": " "}),
        ("/v1/search/title", {"q": "Dune", "limit": "41"}),
        ("/v1/search/isbn", {"isbn": "9780441172718"}),
        ("/v1/search/isbn", {}),
        ("/v1/search/advanced", {}),
        ("/v3/books/search", {"q": "Dune"}),
        ("/v3/books/search", {"q": "Dune", "mode": "semantic"}),
        ("/v3/capabilities", {}),
        ("/search/title", {"q": "Dune"}),
        ("/search/isbn", {"isbn": KNOWN}),
        ("/search/advanced", {"author": "Frank Herbert"}),
        ("/search/author", {"q": "Frank Herbert", "limit": 3}),
        ("/search/author", {"q": "Nobody Atall Zzyzx"}),
        ("/external/google-books", {"q": "Dune"}),
        ("/external/openlibrary-author", {"q": "Frank Herbert"}),
        ("/external/isbndb-isbn", {"isbn": KNOWN}),
        ("/external/openlibrary", {}),
        ("/v1/editions/search", {"workTitle": "Dune", "author": "Frank Herbert"}),
        ("/v1/editions/search", {"workTitle": "Zzyzx Nothing Qqq"}),
    ],
)
def test_get_routes_match_their_documented_responses(client, fake, document, path, params):
    response = client.get(path, params)
    assert response.status_code in (200, 400, 404)
    check(document, "get", path, response)


def test_v3_book_and_not_found_match(client, fake, document):
    check(document, "get", "/v3/books/{isbn}", client.get(f"/v3/books/{KNOWN}"))
    missing = client.get("/v3/books/9780306406157")
    assert missing.status_code == 404
    check(document, "get", "/v3/books/{isbn}", missing)


def test_v3_enrich_and_outage_match(client, fake, document):
    ok = client.post("/v3/books/enrich", {"isbns": [KNOWN, "bad"]}, content_type="application/json")
    check(document, "post", "/v3/books/enrich", ok)
    for upstream in ("google", "openlibrary", "isbndb"):
        fake.configure(upstream, status=500)
    down = client.post("/v3/books/enrich", {"isbns": ["9780743273565"]}, content_type="application/json")
    assert down.status_code == 503
    check(document, "post", "/v3/books/enrich", down)


def test_every_dto_field_is_documented(document):
    """Fields the wire emits for a fully populated hit are all properties of the components."""
    from search.dto import AuthorDTO, EditionDTO, WorkDTO, field_wire_names

    for name, cls in (("Work", WorkDTO), ("Edition", EditionDTO), ("Author", AuthorDTO)):
        component = document["components"]["schemas"][name]
        assert set(component["properties"]) == set(field_wire_names(cls).values()), name
        assert set(component["required"]) <= set(component["properties"])
