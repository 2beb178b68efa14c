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

  // --- Accessibility of GraphiQL's rendered markup ---------------------------------------------
  // GraphiQL is shipped as published; its markup misses what assistive technologies need:
  // CodeMirror's text areas have no label and its scroll areas take no focus, its tabs are list
  // items that hold two buttons each, and its tab list holds the "add" button too. The page mends
  // the rendered markup after every change React or CodeMirror make (`mend`), only ever setting
  // attributes that differ, and never moves an element React renders: its buttons stay where its
  // handlers look for them (a close button finds its tab as its previous sibling), hidden from
  // assistive technologies or from view when the page offers the same action elsewhere.

  // Each editor, found from its place in GraphiQL's layout, and its French name.
  var EDITORS = [
    [".graphiql-query-editor .CodeMirror", "Opération GraphQL"],
    [".graphiql-editor-tool > .graphiql-editor:nth-of-type(1) > .CodeMirror", "Variables"],
    [".graphiql-editor-tool > .graphiql-editor:nth-of-type(2) > .CodeMirror", "En-têtes"],
    [".graphiql-response .CodeMirror", "Résultat"],
  ];
  var TAB = ".graphiql-tabs > .graphiql-tab > .graphiql-tab-button";
  var TAB_KEYS = { ArrowLeft: -1, ArrowRight: 1, Home: "first", End: "last" };

  function set(element, name, value) {
    if (value === null) {
      if (element.hasAttribute(name)) element.removeAttribute(name);
    } else if (element.getAttribute(name) !== value) {
      element.setAttribute(name, value);
    }
  }

  // French text inside GraphiQL's English interface says so.
  function french(element, label) {
    set(element, "aria-label", label);
    set(element, "lang", "fr");
  }

  // Tab and Shift-Tab leave an editor, as they leave any text area, instead of indenting: a
  // keyboard that enters an editor must be able to go on (Ctrl-] and Ctrl-[ indent). The
  // completion list, while open, still takes Tab: its key map comes before this one.
  var released = new WeakSet();
  function releaseTab(editor) {
    if (!editor || released.has(editor)) return;
    editor.addKeyMap({ Tab: false, "Shift-Tab": false });
    released.add(editor);
  }

  function mendEditors(container) {
    EDITORS.forEach(function (editor) {
      container.querySelectorAll(editor[0]).forEach(function (codemirror) {
        var input = codemirror.querySelector(":scope > div > textarea");
        if (input) french(input, editor[1]);
        releaseTab(codemirror.CodeMirror);
        // The text scrolls here, out of the text area's reach: the keyboard scrolls it too.
        var scroller = codemirror.querySelector(":scope > .CodeMirror-scroll");
        if (scroller) {
          set(scroller, "tabindex", "0");
          set(scroller, "role", "group");
          french(scroller, editor[1] + " (défilement)");
        }
      });
    });
  }

  function tabTitle(button) {
    return (button.textContent || "").trim();
  }

  // The list holds tabs only: each list item is a mere container, its first button the tab,
  // its close button left to the mouse (the keyboard closes a tab with Delete or the page's
  // close button). One tab stop for the list, arrows move between tabs.
  function mendTabs(container) {
    var list = container.querySelector(".graphiql-session-header > .graphiql-tabs");
    if (!list) return null;
    var active = null;
    var items = list.querySelectorAll(":scope > .graphiql-tab");
    items.forEach(function (item) {
      var selected = item.classList.contains("graphiql-tab-active");
      set(item, "role", "none");
      set(item, "aria-selected", null);
      var button = item.querySelector(":scope > .graphiql-tab-button");
      if (button) {
        set(button, "role", "tab");
        set(button, "aria-selected", selected ? "true" : "false");
        set(button, "tabindex", selected ? "0" : "-1");
        set(button, "aria-keyshortcuts", "Delete");
        if (selected) active = button;
      }
      var close = item.querySelector(":scope > .graphiql-tab-close");
      if (close) {
        set(close, "aria-hidden", "true");
        set(close, "tabindex", "-1");
      }
    });
    // A single tab is shown without the list: an empty list is no tab list.
    set(list, "role", items.length ? "tablist" : "none");
    set(list, "aria-label", items.length ? "Select active operation" : null);
    mendTabActions(list, active, items.length > 0);
    return list;
  }

  function iconOf(button) {
    var svg = button && button.querySelector("svg");
    if (!svg) return null;
    var icon = svg.cloneNode(true);
    icon.setAttribute("aria-hidden", "true");
    icon.setAttribute("focusable", "false");
    return icon;
  }

  function actionButton(className, icon) {
    var button = document.createElement("button");
    button.type = "button";
    button.className = "graphiql-un-styled graphiql-tab-add " + className;
    if (icon) button.appendChild(icon);
    return button;
  }

  // The add and close actions of the tabs, next to the list (outside it).
  function mendTabActions(list, active, shown) {
    var header = list.parentNode;
    var actions = header.querySelector(":scope > .unefois-tab-actions");
    if (!actions) {
      if (!shown) return;
      actions = document.createElement("div");
      actions.className = "unefois-tab-actions";
      var add = actionButton("unefois-tab-new", iconOf(list.querySelector(".graphiql-tab-add")));
      french(add, "Nouvel onglet");
      add.title = "Nouvel onglet";
      add.addEventListener("click", function () {
        var original = list.querySelector(":scope > .graphiql-tab-add");
        if (original) original.click();
        afterRender(function () {
          focusActiveTab(header.parentNode);
        });
      });
      var close = actionButton(
        "unefois-tab-close",
        iconOf(list.querySelector(".graphiql-tab-close"))
      );
      close.addEventListener("click", function () {
        closeTab(list.querySelector(":scope > .graphiql-tab-active > .graphiql-tab-button"));
      });
      actions.appendChild(add);
      actions.appendChild(close);
      header.insertBefore(actions, list.nextSibling);
    }
    set(actions, "hidden", shown ? null : "");
    var closer = actions.querySelector(".unefois-tab-close");
    var label = "Fermer l'onglet" + (active ? " " + tabTitle(active) : "");
    french(closer, label);
    set(closer, "title", label);
  }

  function afterRender(action) {
    window.setTimeout(action, 0);
  }

  // The active tab, or GraphiQL's add button when a single tab is left (shown without a list).
  function focusActiveTab(session) {
    var target =
      session.querySelector(".graphiql-tabs > .graphiql-tab-active > .graphiql-tab-button") ||
      session.querySelector(".graphiql-session-header-right .graphiql-tab-add");
    if (target) target.focus();
  }

  function closeTab(tab) {
    if (!tab) return;
    var session = tab.closest(".graphiql-sessions");
    var close = tab.parentNode.querySelector(":scope > .graphiql-tab-close");
    var focused = document.activeElement;
    if (close) close.click();
    afterRender(function () {
      // Focus stays on the page's close button while there is a tab left to close.
      if (!focused || !focused.isConnected || focused.closest("[hidden]") || focused === tab) {
        focusActiveTab(session);
      }
    });
  }

  function onTabKey(event) {
    var tab = event.target.closest && event.target.closest(TAB);
    if (!tab || event.altKey || event.ctrlKey || event.metaKey) return;
    if (event.key === "Delete") {
      event.preventDefault();
      closeTab(tab);
      return;
    }
    var move = TAB_KEYS[event.key];
    if (move === undefined) return;
    event.preventDefault();
    var tabs = Array.prototype.slice.call(tab.closest(".graphiql-tabs").querySelectorAll(TAB));
    var index = tabs.indexOf(tab);
    if (move === "first") index = 0;
    else if (move === "last") index = tabs.length - 1;
    else index = (index + move + tabs.length) % tabs.length;
    tabs[index].click();
    tabs[index].focus();
  }

  // With a single tab, GraphiQL's add button stands alone; once pressed, it moves into the tab
  // list (hidden there, see above) and the focus would fall back to the page's top.
  function onAddClick(event) {
    var add = event.target.closest && event.target.closest(".graphiql-session-header-right .graphiql-tab-add");
    if (!add) return;
    var session = add.closest(".graphiql-sessions");
    afterRender(function () {
      if (!document.activeElement || document.activeElement === document.body) {
        focusActiveTab(session);
      }
    });
  }

  function mend(root) {
    function run() {
      var container = root.querySelector(".graphiql-container");
      if (!container) return;
      // GraphiQL's interface is in English; the page's own labels in it say they are French.
      set(container, "lang", "en");
      mendEditors(container);
      mendTabs(container);
      // A history entry's button is named by the operation it shows, as it reads on screen
      // (GraphiQL names it "Set active", its tooltip).
      container.querySelectorAll(".CodeMirror-hints").forEach(function (list) {
        french(list, "Suggestions");
      });
      container.querySelectorAll(".graphiql-history-item-label").forEach(function (button) {
        set(button, "aria-label", null);
      });
    }
    new MutationObserver(run).observe(root, {
      subtree: true,
      childList: true,
      attributes: true,
      attributeFilter: ["class", "role", "aria-selected", "aria-label", "tabindex"],
    });
    root.addEventListener("keydown", onTabKey);
    // Seen before React handles the click, while the button is still in place.
    root.addEventListener("click", onAddClick, true);
    run();
  }

  // GraphiQL's dialogs stop the page scrolling behind them with a <style> element they write
  // (react-remove-scroll), which the page's policy refuses (style-src 'self'), even empty. Its
  // rules are applied through a constructed stylesheet instead, which the policy allows; the
  // element is kept out of the document, in a holder whose changes say when it is taken away.
  function adoptWrittenStyles() {
    var head = document.head;
    var append = head.appendChild;
    var holder = document.createElement("div");
    var sheets = new Map();
    head.appendChild = function (node) {
      if (!(node instanceof HTMLStyleElement) || node.nonce) return append.call(head, node);
      var sheet = new CSSStyleSheet();
      sheet.replaceSync(node.textContent);
      sheets.set(node, sheet);
      document.adoptedStyleSheets = document.adoptedStyleSheets.concat([sheet]);
      return holder.appendChild(node);
    };
    new MutationObserver(function (changes) {
      changes.forEach(function (change) {
        change.removedNodes.forEach(function (node) {
          var sheet = sheets.get(node);
          if (!sheet) return;
          sheets.delete(node);
          document.adoptedStyleSheets = document.adoptedStyleSheets.filter(function (each) {
            return each !== sheet;
          });
        });
      });
    }).observe(holder, { childList: true });
  }

  function start() {
    adoptWrittenStyles();
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
      // GraphiQL fills the first tab's query but not its variables from defaultTabs: given
      // here, the first example runs as it opens.
      variables: tabs[0].variables,
      defaultHeaders: examples.headers,
      isHeadersEditorEnabled: true,
      defaultEditorToolsVisibility: "headers",
      shouldPersistHeaders: false,
      showPersistHeadersSettings: false,
    });
    ReactDOM.createRoot(root).render(ide);
    mend(root);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
