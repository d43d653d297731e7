// "Saved filters": a compact select in the filter toolbar. Picking a name applies that filter;
// "Save current filter…" and "Delete saved filters…" open a small dialog with the name input
// and the list. Saving under an existing name replaces that filter (the dialog says so first).
import { useEffect, useMemo, useRef, useState } from 'react';
import { Button, Input, Modal, Select, Typography } from 'antd';
import type { InputRef } from 'antd';
import { DeleteOutlined } from '@ant-design/icons';
import { useTranslation } from 'react-i18next';
import type { Sort } from '../../types';
import type { FilterForm } from './filters';
import {
  NAME_MAX,
  checkName,
  filterOf,
  findActive,
  loadSavedFilters,
  removeFilter,
  storeSavedFilters,
  upsertFilter,
} from './savedFilters';
import type { SavedFilter, SavedFilterScope } from './savedFilters';

// Names are trimmed, so these values can never be a saved filter's name.
const SAVE = ' save';
const MANAGE = ' manage';

export interface SavedFiltersProps {
  /** Whose and which workspace's filters; null while unknown (the control is disabled). */
  scope: SavedFilterScope | null;
  form: FilterForm;
  sort: Sort;
  onApply: (form: FilterForm, sort: Sort) => void;
}

export default function SavedFilters({ scope, form, sort, onApply }: SavedFiltersProps) {
  const { t } = useTranslation('discrepancies');
  const workspace = scope?.workspace ?? null;
  const user = scope?.user ?? null;
  const [filters, setFilters] = useState<SavedFilter[]>(() => (scope ? loadSavedFilters(scope) : []));
  useEffect(() => {
    setFilters(workspace !== null && user !== null ? loadSavedFilters({ workspace, user }) : []);
  }, [workspace, user]);

  const update = (next: SavedFilter[]) => {
    setFilters(next);
    if (workspace !== null && user !== null) storeSavedFilters({ workspace, user }, next);
  };

  const active = useMemo(() => findActive(filters, form, sort), [filters, form, sort]);

  // ---- the dialog
  const [open, setOpen] = useState(false);
  const [draft, setDraft] = useState('');
  const [tried, setTried] = useState(false);
  const inputRef = useRef<InputRef>(null);
  const checked = checkName(draft);
  const exists = checked.error === null && filters.some((f) => f.name === checked.name);
  const error =
    checked.error === 'too_long'
      ? t('saved.name_too_long', { max: NAME_MAX })
      : checked.error === 'empty' && tried
        ? t('saved.name_required')
        : null;

  const openDialog = () => {
    setDraft(active?.name ?? '');
    setTried(false);
    setOpen(true);
  };

  const submit = () => {
    setTried(true);
    if (checked.error) return;
    update(upsertFilter(filters, checked.name, form, sort));
    setOpen(false);
  };

  const onSelect = (value: string) => {
    if (value === SAVE || value === MANAGE) {
      openDialog();
      return;
    }
    const saved = filters.find((f) => f.name === value);
    if (!saved) return;
    const next = filterOf(saved);
    onApply(next.form, next.sort);
  };

  const options = [
    ...filters.map((f) => ({ value: f.name, label: f.name })),
    { value: SAVE, label: t('saved.save_action'), className: 'disc-saved-action' },
    ...(filters.length ? [{ value: MANAGE, label: t('saved.manage_action'), className: 'disc-saved-action' }] : []),
  ];

  return (
    <>
      <Select
        data-testid="disc-saved-filters"
        aria-label={t('saved.label')}
        placeholder={t('saved.label')}
        style={{ width: 128 }}
        popupMatchSelectWidth={false}
        disabled={scope === null}
        value={active?.name}
        onSelect={onSelect}
        options={options}
      />
      <Modal
        open={open}
        title={t('saved.dialog_title')}
        onCancel={() => setOpen(false)}
        onOk={submit}
        okText={exists ? t('saved.overwrite') : t('common:actions.save')}
        cancelText={t('common:actions.cancel')}
        okButtonProps={{ 'data-testid': 'disc-saved-submit', disabled: checked.error === 'too_long' }}
        destroyOnHidden
        width={420}
        afterOpenChange={(o) => o && inputRef.current?.focus({ cursor: 'all' })}
      >
        <div data-testid="disc-saved-dialog">
          <label htmlFor="disc-saved-name">{t('saved.name')}</label>
          <Input
            id="disc-saved-name"
            ref={inputRef}
            data-testid="disc-saved-name"
            value={draft}
            status={error ? 'error' : exists ? 'warning' : undefined}
            aria-invalid={error !== null}
            aria-describedby="disc-saved-name-help"
            placeholder={t('saved.name_placeholder')}
            onChange={(e) => setDraft(e.target.value)}
            onPressEnter={submit}
          />
          <div id="disc-saved-name-help" aria-live="polite" style={{ minHeight: 22 }}>
            {error ? (
              <Typography.Text type="danger" data-testid="disc-saved-name-error">
                {error}
              </Typography.Text>
            ) : exists ? (
              <Typography.Text type="warning" data-testid="disc-saved-overwrite">
                {t('saved.exists', { name: checked.name })}
              </Typography.Text>
            ) : null}
          </div>
          {filters.length > 0 && (
            <ul className="disc-saved-list" aria-label={t('saved.label')} data-testid="disc-saved-list">
              {filters.map((f) => (
                <li key={f.name}>
                  <Button type="link" size="small" className="disc-saved-name" onClick={() => setDraft(f.name)} title={f.name}>
                    {f.name}
                  </Button>
                  <Button
                    type="text"
                    size="small"
                    danger
                    icon={<DeleteOutlined />}
                    aria-label={t('saved.delete', { name: f.name })}
                    data-testid="disc-saved-delete"
                    onClick={() => update(removeFilter(filters, f.name))}
                  />
                </li>
              ))}
            </ul>
          )}
        </div>
      </Modal>
    </>
  );
}
