"""`allygraph init DIR`: a new project for the user's own articles, ready to build.

The project holds one made-up example article and claim, so `allygraph build` works at once and shows
the shape of every file; the user replaces them with their own.
"""

from __future__ import annotations

from pathlib import Path

from .errors import InputError

CONFIG = """\
# allygraph project settings (see the allygraph README, "Your own project").
[allygraph]
data = "data"      # the ledger: sources.yaml, entities.yaml, claims/, corpus/ (and imports/)
out = "build"      # where `allygraph build` writes the store and exports
# definitions = ["my-definition.ttl"]   # your own definitions of alliance (Turtle), beside the bundled ones
"""

SOURCES = """\
# Who wrote what, and the files that carry it. Every id is lowercase letters, digits and hyphens.
agents:
  example-author: {a: Person, label: Example Author}     # a: Person or Organization
works:
  example-work:                      # one article (a work may be republished in several documents)
    title: "Example: two states sign a pact"
    creator: example-author
    issued: "2024-05-01"             # optional: YYYY, YYYY-MM or YYYY-MM-DD, in quotes
documents:
  example:                           # one text file in corpus/, as published
    file: corpus/example.txt
    title: "Example: two states sign a pact"
    work: example-work
"""

ENTITIES = """\
# The actors, relationships, threats, agreements and events your claims talk about.
# States with a Correlates of War code get the IRI id/state/<code>, shared with imported ATOP data.
# (Example entities, made up: replace them with your own.)
northland: {a: State, label: Northland, cowCode: "9901"}
southland: {a: State, label: Southland, cowCode: "9902"}
northland-southland:
  a: Relationship
  label: Northland–Southland
  hasParticipant: [northland, southland]
pirates: {a: NonStateActor, label: Coastal pirates}
piracy:
  a: NonStateThreat
  label: Piracy on the coast
  posedBy: pirates
"""

CLAIMS = """\
# Claims taken from one source document. Each quote is copied verbatim from the text (whitespace and
# quotation marks may differ); each statement is [subject, property, object] in the ontology's terms.
source: example
claims:
  - id: example-piracy               # unique in the ledger
    quote: "Northland and Southland agreed to patrol the coast together against piracy"
    attribution: author              # or the id of the person or group whose words are reported
    modality: asserted               # asserted, denied or hypothetical
    statements:
      - [northland-southland, directedAgainst, piracy]
      - [northland-southland, hasTimeHorizon, shortTerm]
    note: An example claim; replace it with your own.
"""

ARTICLE = """\
Example article (made up, for the template).

Northland and Southland agreed to patrol the coast together against piracy, their defence ministers
said on Tuesday. The arrangement is for this season only.
"""

README = """\
# My allygraph project

Next steps:

1. Put each article's text in `data/corpus/` (plain UTF-8 text, as published) and list it in
   `data/sources.yaml` (the author, the work, the document).
2. Add the actors, relationships and threats you need to `data/entities.yaml`.
3. Write claims in `data/claims/<document>.yaml`: a verbatim quote, who says it, whether it is asserted,
   denied or hypothetical, and what it states. `data/claims/example.yaml` shows every field.
4. `allygraph build` checks everything (errors name the file and line), validates it with SHACL and
   classifies every relationship under every definition of alliance.
5. `allygraph classify`, `allygraph explain RELATIONSHIP`, `allygraph query NAME` to look at the results;
   `allygraph report` for an HTML report; `allygraph serve` or `allygraph push --endpoint URL` to share
   the graph. Treaty data: `allygraph import atop --alliances FILE --members FILE`.

The example article, entities and claim are made up: replace them with your own.
"""

FILES = {
    "allygraph.toml": CONFIG,
    "data/sources.yaml": SOURCES,
    "data/entities.yaml": ENTITIES,
    "data/claims/example.yaml": CLAIMS,
    "data/corpus/example.txt": ARTICLE,
    "README.md": README,
    ".gitignore": "/build/\n",
}


def init_project(folder: Path) -> list[Path]:
    """Create a project in `folder` (new or empty); the files written.

    :raises InputError: if `folder` is a file or already holds anything (nothing is overwritten).
    """
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise InputError(f"{folder} is not an empty folder; allygraph init never overwrites anything")
    written = []
    for name, text in FILES.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
