// Starts Swagger UI (5.x) on the documentation page (/docs). A file of its own, not an inline script: the page's
// Content-Security-Policy allows scripts from this origin only.
"use strict";

window.addEventListener("DOMContentLoaded", function () {
  var root = document.getElementById("swagger-ui");
  var tokenField = document.getElementById("docs-token");

  window.ui = window.SwaggerUIBundle({
    // The gateway's OpenAPI 3.1 document (/docs/openapi.json), read as it is.
    url: root.dataset.url,
    domNode: root,
    deepLinking: true,
    presets: [window.SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    // No badge from an outside validator: the page talks to this origin only.
    validatorUrl: null,
    docExpansion: "list",
    defaultModelsExpandDepth: 0,
    displayRequestDuration: true,
    tryItOutEnabled: false,
    // The token typed above goes into the calls of "Try it out"; it is kept in this page only.
    requestInterceptor: function (request) {
      var token = tokenField.value.trim();
      if (token && !request.loadSpec && !request.headers.Authorization) {
        request.headers.Authorization = "Bearer " + token;
      }
      return request;
    },
  });
});
