"""Issue 14.8: the public transparency CSV cannot carry a spreadsheet formula."""

import csv
import io


def test_it_neutralises_a_formula_in_the_public_csv(client, deployment_in_state, dep_site):
    dep_site.name = '=HYPERLINK("http://evil.example/","Click")'
    dep_site.save(update_fields=["name"])
    deployment_in_state("completed")
    rows = list(
        csv.reader(io.StringIO(client.get("/transparency/deployments.csv").content.decode()))
    )
    location = rows[1][rows[0].index("Deployment Location")]
    assert location == "'" + dep_site.name


def test_it_leaves_ordinary_cells_of_the_public_csv_as_the_json_has_them(
    client, deployment_in_state
):
    deployment_in_state("completed")
    rows = list(
        csv.reader(io.StringIO(client.get("/transparency/deployments.csv").content.decode()))
    )
    published = client.get("/transparency/deployments.json").json()[0]
    assert rows[1] == ["" if v is None else str(v) for v in published.values()]
