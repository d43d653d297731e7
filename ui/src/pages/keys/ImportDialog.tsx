// Import a credential version: pick account and purpose, then the fields that purpose needs.
import { useEffect, useState } from 'react';
import { Alert, Button, Form, Modal, Select } from 'antd';
import { useTranslation } from 'react-i18next';
import * as commands from '../../commands';
import { ErrorAlert } from '../../components/ErrorNotice';
import { useCommand } from '../../hooks/useCommand';
import { shortHash } from '../../format';
import { WIDTH } from '../../styles';
import type { AccountInfo, Purpose, VersionListing } from '../../types';
import ImportFields from './ImportFields';
import type { FieldName, FieldValues } from './keyMeta';
import { checkFields, importArgs, PURPOSES_BY_PROVIDER } from './keyMeta';

export interface ImportDialogProps {
  open: boolean;
  accounts: AccountInfo[];
  account?: string;
  purpose?: Purpose;
  onClose: () => void;
  onImported: (v: VersionListing) => void;
}

export default function ImportDialog({ open, accounts, account, purpose, onClose, onImported }: ImportDialogProps) {
  const { t } = useTranslation('keys');
  const [acc, setAcc] = useState<string | undefined>(account);
  const [pur, setPur] = useState<Purpose | undefined>(purpose);
  const [values, setValues] = useState<FieldValues>({});
  const [errors, setErrors] = useState<Partial<Record<FieldName | 'account' | 'purpose', string>>>({});
  const {
    run: importVersion,
    loading: busy,
    error: failure,
    setError: setFailure,
  } = useCommand((a: string, p: Purpose, fields: ReturnType<typeof importArgs>) =>
    commands.keysImport(a, p, fields),
  );
  const [done, setDone] = useState<VersionListing | null>(null);

  useEffect(() => {
    if (open) {
      setAcc(account);
      setPur(purpose);
      setValues({});
      setErrors({});
      setFailure(null);
      setDone(null);
    } else {
      // Secrets do not stay in memory once the dialog is closed.
      setValues({});
    }
  }, [open, account, purpose, setFailure]);

  const provider = accounts.find((a) => a.name === acc)?.provider;
  const purposes = provider ? PURPOSES_BY_PROVIDER[provider] : [];

  async function submit() {
    if (busy) return;
    const errs: typeof errors = {};
    if (!acc) errs.account = t('import.errors.account_required');
    if (!pur) errs.purpose = t('import.errors.purpose_required');
    if (pur) Object.assign(errs, checkFields(pur, values));
    setErrors(errs);
    if (Object.keys(errs).length || !acc || !pur) return;
    const r = await importVersion(acc, pur, importArgs(pur, values));
    if (r.status === 'ok') {
      setValues({});
      setDone(r.value);
      onImported(r.value);
    }
  }

  return (
    <Modal
      open={open}
      title={t('import.title')}
      onCancel={onClose}
      destroyOnHidden
      width={WIDTH.dialogWide}
      footer={
        done
          ? [
              <Button key="close" type="primary" onClick={onClose} data-testid="import-close">
                {t('common:actions.close')}
              </Button>,
            ]
          : [
              <Button key="cancel" onClick={onClose}>
                {t('common:actions.cancel')}
              </Button>,
              <Button key="ok" type="primary" loading={busy} onClick={() => void submit()} data-testid="import-submit">
                {t('import.submit')}
              </Button>,
            ]
      }
    >
      {done ? (
        <Alert
          type="success"
          showIcon
          data-testid="import-result"
          data-state={done.state}
          message={t('import.done', {
            version: done.version,
            state: t(`common:key_state.${done.state}`),
          })}
          description={
            <div>
              <div>
                {t('versions.fingerprint')}: <code>{shortHash(done.info.fingerprint, 16, 8)}</code>
              </div>
              {done.state === 'pending' && <div>{t('import.pending_note')}</div>}
            </div>
          }
        />
      ) : (
        <Form layout="vertical" component="div">
          <Form.Item
            label={t('import.account')}
            required
            validateStatus={errors.account ? 'error' : undefined}
            help={errors.account}
          >
            <Select
              value={acc}
              onChange={(v: string) => {
                setAcc(v);
                setPur(undefined);
                setValues({});
              }}
              data-testid="import-account"
              options={accounts
                .filter((a) => PURPOSES_BY_PROVIDER[a.provider].length > 0)
                .map((a) => ({ value: a.name, label: a.name }))}
              placeholder={t('import.account')}
            />
          </Form.Item>
          <Form.Item
            label={t('import.purpose')}
            required
            validateStatus={errors.purpose ? 'error' : undefined}
            help={errors.purpose}
          >
            <Select
              value={pur}
              disabled={!acc}
              onChange={(v: Purpose) => {
                setPur(v);
                setValues({});
                setErrors({});
              }}
              data-testid="import-purpose"
              options={purposes.map((p) => ({ value: p, label: t(`common:purpose.${p}`) }))}
              placeholder={t('import.purpose')}
            />
          </Form.Item>
          {pur && (
            <ImportFields
              purpose={pur}
              values={values}
              errors={errors}
              onChange={(name, value) => setValues((prev) => ({ ...prev, [name]: value }))}
            />
          )}
          <ErrorAlert error={failure} data-testid="import-error" />
        </Form>
      )}
    </Modal>
  );
}
