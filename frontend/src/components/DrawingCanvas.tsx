import { forwardRef, useImperativeHandle, useRef } from 'react';
import type { PointerEvent } from 'react';

export interface DrawingCanvasHandle {
  clear: () => void;
  /** imageData returns the canvas pixels; alpha is the ink. */
  imageData: () => ImageData | null;
}

interface Props {
  size?: number;
  label: string;
  /** onDraw fires while drawing (throttled by the caller); final marks a finished stroke. */
  onDraw?: (final: boolean) => void;
}

/**
 * DrawingCanvas lets the user draw with a mouse, a finger or a pen, through
 * Pointer Events (one code path for all three). touch-action: none in the CSS
 * keeps the page from scrolling while drawing on a phone.
 */
export const DrawingCanvas = forwardRef<DrawingCanvasHandle, Props>(function DrawingCanvas({ size = 280, label, onDraw }, ref) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const last = useRef<{ x: number; y: number } | null>(null);
  const activePointer = useRef<number | null>(null);

  useImperativeHandle(ref, () => ({
    clear() {
      const c = canvas.current;
      c?.getContext('2d')?.clearRect(0, 0, c.width, c.height);
    },
    imageData() {
      const c = canvas.current;
      return c?.getContext('2d', { willReadFrequently: true })?.getImageData(0, 0, c.width, c.height) ?? null;
    },
  }));

  const point = (e: { clientX: number; clientY: number }) => {
    const c = canvas.current;
    if (!c) return { x: 0, y: 0 };
    const r = c.getBoundingClientRect();
    return { x: ((e.clientX - r.left) * c.width) / r.width, y: ((e.clientY - r.top) * c.height) / r.height };
  };

  const strokeTo = (p: { x: number; y: number }, pressure: number, pointerType: string) => {
    const ctx = canvas.current?.getContext('2d', { willReadFrequently: true });
    if (!ctx) return;
    const from = last.current ?? p;
    // Pens report pressure; mice and most fingers report 0.5 while pressed.
    const w = (size / 14) * (pointerType === 'pen' ? 0.6 + pressure * 0.8 : 1);
    // The ink colour comes from CSS so it follows the theme; only alpha is read back.
    ctx.strokeStyle = getComputedStyle(ctx.canvas).color || '#000';
    ctx.lineWidth = w;
    ctx.lineCap = 'round';
    ctx.lineJoin = 'round';
    ctx.beginPath();
    ctx.moveTo(from.x, from.y);
    ctx.lineTo(p.x + (from === p ? 0.01 : 0), p.y);
    ctx.stroke();
    last.current = p;
  };

  const onPointerDown = (e: PointerEvent<HTMLCanvasElement>) => {
    if (activePointer.current !== null || (e.pointerType === 'mouse' && e.button !== 0)) return;
    e.preventDefault();
    activePointer.current = e.pointerId;
    e.currentTarget.setPointerCapture(e.pointerId);
    last.current = null;
    strokeTo(point(e), e.pressure, e.pointerType);
  };

  const onPointerMove = (e: PointerEvent<HTMLCanvasElement>) => {
    if (activePointer.current !== e.pointerId) return;
    // Coalesced events keep fast strokes smooth on high-rate pointers.
    const native = e.nativeEvent;
    const events = 'getCoalescedEvents' in native ? native.getCoalescedEvents() : [];
    for (const ev of events.length > 0 ? events : [native]) strokeTo(point(ev), ev.pressure, ev.pointerType);
    onDraw?.(false);
  };

  const end = (e: PointerEvent<HTMLCanvasElement>) => {
    if (activePointer.current !== e.pointerId) return;
    activePointer.current = null;
    last.current = null;
    onDraw?.(true);
  };

  return (
    <canvas
      ref={canvas}
      className="drawing"
      width={size}
      height={size}
      role="img"
      aria-label={label}
      onPointerDown={onPointerDown}
      onPointerMove={onPointerMove}
      onPointerUp={end}
      onPointerCancel={end}
    />
  );
});
