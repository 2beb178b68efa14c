// GraphiQL for Unefois: everything stays in this page's memory. Tokens, headers, variables
// (a person's name and birth date) and history are never written to localStorage,
// sessionStorage or the address bar; reloading the page forgets them.
"use strict";

(function () {
  // The Storage interface GraphiQL reads and writes its tabs, history and settings through.
  function memoryStorage() {
    var items = new Map();
    return {
      getItem: function (key) {
        return items.has(key) ? items.get(key) : null;
      },
      setItem: function (key, value) {
        items.set(key, String(value));
      },
      removeItem: function (key) {
        items.delete(key);
      },
      clear: function () {
        items.clear();
      },
      get length() {
        return items.size;
      },
    };
  }

  function start() {
    var root = document.getElementById("graphiql");
    // Example operations and the header to fill, given by the page (see ide_examples).
    var examples = JSON.parse(root.dataset.examples);
    var tabs = examples.tabs.map(function (tab) {
      return { query: tab.query, variables: tab.variables, headers: tab.headers };
    });
    var ide = React.createElement(GraphiQL, {
      fetcher: GraphiQL.createFetcher({ url: root.dataset.endpoint }),
      storage: memoryStorage(),
      defaultTabs: tabs,
      defaultHeaders: examples.headers,
      isHeadersEditorEnabled: true,
      defaultEditorToolsVisibility: "headers",
      shouldPersistHeaders: false,
      showPersistHeadersSettings: false,
    });
    ReactDOM.createRoot(root).render(ide);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
