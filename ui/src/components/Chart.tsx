// A small ECharts wrapper: <Chart option={...} height={280} data-testid="..."/>.
import { useEffect, useRef } from 'react';
import type { CSSProperties } from 'react';
import * as echarts from 'echarts/core';
import { BarChart, LineChart, PieChart, ScatterChart } from 'echarts/charts';
import {
  DatasetComponent,
  DataZoomComponent,
  GridComponent,
  LegendComponent,
  MarkLineComponent,
  MarkPointComponent,
  TitleComponent,
  TooltipComponent,
  VisualMapComponent,
} from 'echarts/components';
import { SVGRenderer } from 'echarts/renderers';
import type { EChartsOption } from 'echarts';
import { useColorScheme } from '../theme';

echarts.use([
  BarChart,
  LineChart,
  PieChart,
  ScatterChart,
  DatasetComponent,
  DataZoomComponent,
  GridComponent,
  LegendComponent,
  MarkLineComponent,
  MarkPointComponent,
  TitleComponent,
  TooltipComponent,
  VisualMapComponent,
  SVGRenderer,
]);

export type { EChartsOption };

export interface ChartClickParams {
  seriesName?: string;
  name?: string;
  dataIndex?: number;
  value?: unknown;
}

export interface ChartProps {
  option: EChartsOption;
  height?: number;
  style?: CSSProperties;
  className?: string;
  /** Called when a data item is clicked. */
  onClick?: (params: ChartClickParams) => void;
  'data-testid'?: string;
}

/** In dark mode: echarts' dark theme (text, axes, tooltips) on the page's own background. */
function schemed(option: EChartsOption, dark: boolean): EChartsOption {
  return dark ? { backgroundColor: 'transparent', ...option } : option;
}

export function Chart({ option, height = 280, style, className, onClick, ...rest }: ChartProps) {
  const dark = useColorScheme() === 'dark';
  const ref = useRef<HTMLDivElement>(null);
  const chart = useRef<echarts.ECharts | null>(null);
  const clickRef = useRef(onClick);
  clickRef.current = onClick;

  const optionRef = useRef(option);
  optionRef.current = option;

  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    let instance: echarts.ECharts | null = null;
    // Initialise once the element has a size (hidden tabs, tests without layout: later/never).
    const ensure = () => {
      if (instance || el.clientWidth === 0 || el.clientHeight === 0) return;
      try {
        instance = echarts.init(el, dark ? 'dark' : undefined, { renderer: 'svg' });
        instance.on('click', (p) => clickRef.current?.(p as ChartClickParams));
        instance.setOption(schemed(optionRef.current, dark), { notMerge: true });
        chart.current = instance;
      } catch {
        instance = null;
      }
    };
    ensure();
    let ro: ResizeObserver | null = null;
    if (typeof ResizeObserver !== 'undefined') {
      ro = new ResizeObserver(() => {
        ensure();
        try {
          instance?.resize();
        } catch {
          // ignore
        }
      });
      ro.observe(el);
    }
    return () => {
      ro?.disconnect();
      instance?.dispose();
      chart.current = null;
    };
    // A theme is chosen at init: a new scheme makes a new chart.
  }, [dark]);

  useEffect(() => {
    try {
      chart.current?.setOption(schemed(option, dark), { notMerge: true });
    } catch {
      // ignore rendering problems in environments without layout
    }
  }, [option, dark]);

  return (
    <div
      ref={ref}
      className={className}
      style={{ width: '100%', height, ...style }}
      data-testid={rest['data-testid']}
    />
  );
}

export default Chart;
