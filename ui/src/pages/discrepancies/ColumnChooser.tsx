// The table's column chooser: show or hide the optional columns, fit them all again. The
// frozen key columns (order no, class, difference) always show.
import { Button, Checkbox, Divider, Popover } from 'antd';
import { ColumnWidthOutlined } from '@ant-design/icons';
import { useTranslation } from 'react-i18next';
import type { ColumnPrefs } from './columnLayout';
import { OPTIONAL_COLUMNS } from './DiscrepancyTable';

export default function ColumnChooser({ prefs, onChange }: { prefs: ColumnPrefs; onChange: (p: ColumnPrefs) => void }) {
  const { t } = useTranslation('discrepancies');
  const content = (
    <div className="disc-columns" data-testid="disc-columns-panel">
      {OPTIONAL_COLUMNS.map((key) => (
        <div key={key}>
          <Checkbox
            data-testid={`disc-column-${key}`}
            checked={!prefs.hidden.includes(key)}
            onChange={(e) =>
              onChange({
                ...prefs,
                hidden: e.target.checked ? prefs.hidden.filter((h) => h !== key) : [...prefs.hidden, key],
              })
            }
          >
            {t(`column.${key}`)}
          </Checkbox>
        </div>
      ))}
      <Divider style={{ margin: '8px 0' }} />
      <Button size="small" data-testid="disc-columns-reset" onClick={() => onChange({ ...prefs, widths: {}, hidden: [] })}>
        {t('table.columns_reset')}
      </Button>
    </div>
  );
  return (
    <Popover trigger="click" placement="bottomRight" title={t('table.columns_title')} content={content}>
      <Button icon={<ColumnWidthOutlined />} data-testid="disc-columns">
        {t('table.columns')}
      </Button>
    </Popover>
  );
}
