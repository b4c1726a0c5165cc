def test_swagger_ui_page_has_no_inline_style_so_the_strict_csp_lets_it_render(admin_client):
    response = admin_client.get("/api/docs/")
    body = response.content.decode()
    assert response.status_code == 200
    assert "<style>" not in body
    assert "css/swagger.css" in body
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
