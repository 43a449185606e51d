// The strings the browser shows itself, in the page's language: i18n/web.py puts them in the page as a JSON
// data block (#ioc-i18n); `ioc.t(key, {name: value})` fills in {name} placeholders. Numbers use <html lang>.
window.ioc = window.ioc || {};
(function () {
    let strings = null;
    window.ioc.t = function (key, values) {
        if (strings === null) {
            const block = document.getElementById("ioc-i18n");
            try { strings = block ? JSON.parse(block.textContent) : {}; } catch (e) { strings = {}; }
        }
        const text = Object.prototype.hasOwnProperty.call(strings, key) ? strings[key] : key;
        return text.replace(/\{(\w+)\}/g, function (whole, name) {
            return values && Object.prototype.hasOwnProperty.call(values, name) ? String(values[name]) : whole;
        });
    };
    window.ioc.lang = function () { return document.documentElement.lang || "en"; };
})();
