import httpx


async def test_healthz(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response.headers["x-request-id"]


async def test_readyz(client: httpx.AsyncClient) -> None:
    response = await client.get("/readyz")
    assert response.status_code == 200, response.text


async def test_graphql_server_info(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/graphql", json={"query": "{ __typename serverInfo { version environment } }"}
    )
    assert response.status_code == 200
    data = response.json()["data"]
    assert data["__typename"] == "Query"
    assert data["serverInfo"]["environment"] == "test"
