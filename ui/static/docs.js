// The API reference at /docs: the vendored Swagger UI (vendor/swagger-ui/, loaded by
// docs.html as a classic script before this module runs) renders /openapi.json.
const node = document.getElementById("reference");
window.SwaggerUIBundle({
  url: node.dataset.url,
  domNode: node,
  deepLinking: true,
  defaultModelsExpandDepth: 1,
  docExpansion: "list",
  tryItOutEnabled: false,
  validatorUrl: null, // never sends the document to swagger.io
});
