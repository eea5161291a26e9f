// Drag and drop with pointer events: palette items and step cards are picked up,
// a ghost follows the pointer, and the "+" slot under it lights up as the drop
// target. Pointer events (not HTML5 drag and drop) keep the drag smooth and let
// a mouse, a pen, a finger or a test's scripted mouse drive it alike.

const THRESHOLD = 5; // pixels before a press becomes a drag (a click stays a click)
const EDGE = 40; // pixels from the viewport's edge where the canvas pans by itself
const EDGE_SPEED = 12;

export class DragController {
  /**
   * @param {object} options
   *   pick(element) -> payload or null: what a press on `element` picks up
   *   ghost(payload) -> Element: what follows the pointer
   *   begin(payload): a drag started (mark the slots it cannot go to)
   *   drop(payload, slotElement): dropped on a slot
   *   end(payload): the drag is over, dropped or not
   *   viewport: the Viewport, panned when the pointer nears its edges
   */
  constructor(root, options) {
    this.root = root;
    this.options = options;
    this.press = null;
    this.drag = null;
    root.addEventListener("pointerdown", (event) => this.onDown(event));
    // A drag must not also be a click (on the card it started from).
    root.addEventListener("click", (event) => {
      if (this.justDropped) {
        event.stopPropagation();
        event.preventDefault();
        this.justDropped = false;
      }
    }, true);
  }

  get active() {
    return this.drag !== null;
  }

  onDown(event) {
    if (event.button !== 0 || this.drag) return;
    if (event.target.closest("button:not([data-drag]), input, select, textarea, a")) return;
    const source = event.target.closest("[data-drag]");
    if (!source) return;
    const payload = this.options.pick(source);
    if (!payload) return;
    this.press = { payload, source, x: event.clientX, y: event.clientY, id: event.pointerId };
    const move = (e) => this.onMove(e);
    const up = (e) => {
      document.removeEventListener("pointermove", move);
      document.removeEventListener("pointerup", up);
      document.removeEventListener("pointercancel", up);
      this.onUp(e);
    };
    document.addEventListener("pointermove", move);
    document.addEventListener("pointerup", up);
    document.addEventListener("pointercancel", up);
  }

  onMove(event) {
    const press = this.press;
    if (!press || event.pointerId !== press.id) return;
    if (!this.drag) {
      if (Math.hypot(event.clientX - press.x, event.clientY - press.y) < THRESHOLD) return;
      this.start(press);
    }
    event.preventDefault();
    this.drag.x = event.clientX;
    this.drag.y = event.clientY;
    this.placeGhost();
    this.hover(document.elementFromPoint(event.clientX, event.clientY));
    this.autoPan();
  }

  start(press) {
    const ghost = this.options.ghost(press.payload);
    ghost.classList.add("drag-ghost");
    ghost.setAttribute("aria-hidden", "true");
    document.body.append(ghost);
    document.body.classList.add("is-dragging");
    this.drag = { payload: press.payload, ghost, x: press.x, y: press.y, over: null, panTimer: null };
    this.options.begin?.(press.payload);
  }

  placeGhost() {
    const { ghost, x, y } = this.drag;
    ghost.style.transform = `translate3d(${x + 8}px, ${y + 8}px, 0)`;
  }

  hover(element) {
    const slot = element?.closest?.(".slot") ?? null;
    const target = slot && !slot.classList.contains("slot-invalid") ? slot : null;
    if (target === this.drag.over) return;
    this.drag.over?.classList.remove("is-drop-target");
    target?.classList.add("is-drop-target");
    this.drag.over = target;
  }

  autoPan() {
    const viewport = this.options.viewport;
    if (!viewport) return;
    clearInterval(this.drag.panTimer);
    const box = viewport.viewport.getBoundingClientRect();
    const { x, y } = this.drag;
    if (x < box.left || x > box.right || y < box.top || y > box.bottom) return;
    const dx = x < box.left + EDGE ? EDGE_SPEED : x > box.right - EDGE ? -EDGE_SPEED : 0;
    const dy = y < box.top + EDGE ? EDGE_SPEED : y > box.bottom - EDGE ? -EDGE_SPEED : 0;
    if (!dx && !dy) return;
    this.drag.panTimer = setInterval(() => {
      viewport.panBy(dx, dy);
      this.hover(document.elementFromPoint(this.drag.x, this.drag.y));
    }, 16);
  }

  onUp(event) {
    const drag = this.drag;
    this.press = null;
    if (!drag) return;
    this.drag = null;
    clearInterval(drag.panTimer);
    drag.ghost.remove();
    document.body.classList.remove("is-dragging");
    const over = event.type === "pointerup" ? drag.over : null;
    over?.classList.remove("is-drop-target");
    this.justDropped = true;
    setTimeout(() => { this.justDropped = false; }, 0);
    try {
      if (over) this.options.drop(drag.payload, over);
    } finally {
      this.options.end?.(drag.payload);
    }
  }
}
