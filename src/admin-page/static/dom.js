/** Builds elements from text only: nothing the server sends is ever parsed as HTML. */
export function el(tag, props = {}, ...children) {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === 'class') element.className = value;
    else if (key === 'dataset') Object.assign(element.dataset, value);
    else if (key.startsWith('on')) element.addEventListener(key.slice(2), value);
    else element.setAttribute(key, value);
  }
  element.append(...children.filter((child) => child !== undefined && child !== null));
  return element;
}

export const $ = (selector, root = document) => root.querySelector(selector);

/** Shows `text` in a message element, or hides it when there is none. */
export function say(element, text) {
  element.textContent = text ?? '';
  element.hidden = !text;
}

/** Every dialog closes from its [data-close] buttons. */
export function wireCloseButtons(dialog) {
  for (const button of dialog.querySelectorAll('[data-close]')) button.addEventListener('click', () => dialog.close());
}
