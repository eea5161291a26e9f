// Pan and zoom: the flow (the "world") moves inside a fixed viewport by a CSS
// transform, so panning and zooming never re-lay out the cards.
// Drag on empty canvas or scroll to pan; Ctrl+wheel (and trackpad pinch) or the
// buttons to zoom.

const MIN_SCALE = 0.25;
const MAX_SCALE = 2;
const STEP = 1.2;
const MARGIN = 24;

// Pointer-downs on these start something else (a drag, a click, typing): not a pan.
const INTERACTIVE = ".step-card, .slot-button, .jump-chip, button, input, select, textarea, a, [data-drag]";

export class Viewport {
  constructor(viewport, world, { onChange = () => {} } = {}) {
    this.viewport = viewport;
    this.world = world;
    this.onChange = onChange;
    this.x = 0;
    this.y = 0;
    this.scale = 1;
    this.pan = null;
    viewport.addEventListener("pointerdown", (event) => this.startPan(event));
    viewport.addEventListener("wheel", (event) => this.onWheel(event), { passive: false });
    // The viewport clips; a focused card out of view would otherwise scroll it natively.
    viewport.addEventListener("scroll", () => { viewport.scrollTop = 0; viewport.scrollLeft = 0; });
    viewport.addEventListener("focusin", (event) => this.reveal(event.target));
  }

  apply() {
    this.world.style.transform = `translate(${this.x}px, ${this.y}px) scale(${this.scale})`;
    this.onChange(this);
  }

  /** Show the top of the flow, centred, as large as fits the width (at most 100%). */
  fit() {
    const width = this.world.offsetWidth;
    const room = this.viewport.clientWidth - 2 * MARGIN;
    this.scale = Math.min(1, Math.max(MIN_SCALE, room / Math.max(width, 1)));
    this.x = Math.round((this.viewport.clientWidth - width * this.scale) / 2);
    this.y = MARGIN;
    this.apply();
  }

  /** Run `redraw` (which replaces the flow) without moving `anchor()` on the screen. */
  keepInPlace(anchor, redraw) {
    const before = anchor()?.getBoundingClientRect();
    redraw();
    const after = anchor()?.getBoundingClientRect();
    if (before && after && (before.left !== after.left || before.top !== after.top)) {
      this.panBy(before.left - after.left, before.top - after.top);
    }
  }

  zoomBy(factor, clientX, clientY) {
    const rect = this.viewport.getBoundingClientRect();
    const px = (clientX ?? rect.left + rect.width / 2) - rect.left;
    const py = (clientY ?? rect.top + rect.height / 2) - rect.top;
    const scale = Math.min(MAX_SCALE, Math.max(MIN_SCALE, this.scale * factor));
    // Keep the point under the cursor where it is.
    this.x = px - ((px - this.x) * scale) / this.scale;
    this.y = py - ((py - this.y) * scale) / this.scale;
    this.scale = scale;
    this.apply();
  }

  /** Zoom to a given scale around the viewport's centre. */
  zoomTo(scale) {
    this.zoomBy(scale / this.scale);
  }

  zoomIn() {
    this.zoomBy(STEP);
  }

  zoomOut() {
    this.zoomBy(1 / STEP);
  }

  panBy(dx, dy) {
    this.x += dx;
    this.y += dy;
    this.apply();
  }

  onWheel(event) {
    event.preventDefault();
    if (event.ctrlKey || event.metaKey) {
      this.zoomBy(Math.exp(-event.deltaY * 0.002), event.clientX, event.clientY);
    } else {
      const scale = event.deltaMode === 1 ? 16 : 1; // lines, not pixels
      this.panBy(-(event.shiftKey ? event.deltaY : event.deltaX) * scale, -(event.shiftKey ? 0 : event.deltaY) * scale);
    }
  }

  startPan(event) {
    if (event.button !== 0 || event.target.closest(INTERACTIVE)) return;
    this.pan = { id: event.pointerId, x: event.clientX, y: event.clientY };
    this.viewport.setPointerCapture(event.pointerId);
    this.viewport.classList.add("is-panning");
    const move = (e) => {
      if (!this.pan || e.pointerId !== this.pan.id) return;
      this.panBy(e.clientX - this.pan.x, e.clientY - this.pan.y);
      this.pan.x = e.clientX;
      this.pan.y = e.clientY;
    };
    const end = (e) => {
      if (!this.pan || e.pointerId !== this.pan.id) return;
      this.pan = null;
      this.viewport.classList.remove("is-panning");
      this.viewport.removeEventListener("pointermove", move);
      this.viewport.removeEventListener("pointerup", end);
      this.viewport.removeEventListener("pointercancel", end);
    };
    this.viewport.addEventListener("pointermove", move);
    this.viewport.addEventListener("pointerup", end);
    this.viewport.addEventListener("pointercancel", end);
  }

  /** Pan just enough to bring an element into view. */
  reveal(element) {
    if (!element || !this.world.contains(element)) return;
    const box = this.viewport.getBoundingClientRect();
    const rect = element.getBoundingClientRect();
    let dx = 0;
    let dy = 0;
    if (rect.left < box.left + MARGIN) dx = box.left + MARGIN - rect.left;
    else if (rect.right > box.right - MARGIN) dx = Math.max(box.right - MARGIN - rect.right, box.left + MARGIN - rect.left);
    if (rect.top < box.top + MARGIN) dy = box.top + MARGIN - rect.top;
    else if (rect.bottom > box.bottom - MARGIN) dy = Math.max(box.bottom - MARGIN - rect.bottom, box.top + MARGIN - rect.top);
    if (dx || dy) this.panBy(dx, dy);
  }
}
