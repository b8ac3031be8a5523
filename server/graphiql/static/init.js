// Starts GraphiQL on the page served by server/graphiql. It lives in its own
// file, not inline in the HTML, so the page's Content-Security-Policy can
// allow scripts from 'self' only. The GraphQL endpoint comes from the
// data-endpoint attribute of the #graphiql element.
(function () {
  'use strict';

  var TOKEN_PLACEHOLDER =
    '<paste a token from: bin/casegraph token --subject you --agency police-tirane --role investigator>';

  var defaultHeaders = JSON.stringify(
    { Authorization: 'Bearer ' + TOKEN_PLACEHOLDER },
    null,
    2
  );

  var defaultQuery = [
    '# Welcome to CaseGraph.',
    '#',
    '# Requests need a bearer token. make run printed',
    '# ready-made headers for a few demo roles when it',
    '# started: paste one over all of the Headers tab',
    '# below. Or, in the folder where the server runs,',
    '# get a token with',
    '#',
    '#   bin/casegraph token --subject you \\',
    '#     --agency police-tirane --role investigator',
    '#',
    '# and paste it into the Headers tab, in place of',
    '# the <paste ...> placeholder. Then click the',
    '# circular arrow at the bottom left to re-fetch the',
    '# schema, for docs and autocompletion.',
    '#',
    '# Run a query with Ctrl-Enter (Cmd-Enter on a Mac).',
    '',
    '{',
    '  __typename',
    '}',
    ''
  ].join('\n');

  var root = document.getElementById('graphiql');
  var endpoint = root.getAttribute('data-endpoint') || '/graphql';
  var baseFetcher = GraphiQL.createFetcher({ url: endpoint });

  // While the Authorization header still holds the placeholder, leave it out,
  // so the server sees an anonymous request rather than a malformed token.
  function fetcher(params, opts) {
    var headers = opts && opts.headers;
    if (headers) {
      var cleaned = {};
      var changed = false;
      Object.keys(headers).forEach(function (name) {
        var value = headers[name];
        if (name.toLowerCase() === 'authorization' &&
            typeof value === 'string' && value.indexOf('<paste') !== -1) {
          changed = true;
          return;
        }
        cleaned[name] = value;
      });
      if (changed) {
        opts = Object.assign({}, opts, { headers: cleaned });
      }
    }
    return baseFetcher(params, opts);
  }

  ReactDOM.createRoot(root).render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultQuery: defaultQuery,
      defaultHeaders: defaultHeaders,
      isHeadersEditorEnabled: true,
      defaultEditorToolsVisibility: 'headers'
    })
  );
})();
