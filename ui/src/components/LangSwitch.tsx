// Toggles 简体中文 ⇄ English; the button shows the OTHER language's name.
import { Button } from 'antd';
import { GlobalOutlined } from '@ant-design/icons';
import { useTranslation } from 'react-i18next';
import { useSession } from '../session';

export function LangSwitch() {
  const { t } = useTranslation('common');
  const { lang, setLang } = useSession();
  const other = lang === 'zh' ? 'en' : 'zh';
  return (
    <Button
      icon={<GlobalOutlined />}
      data-testid="lang-switch"
      title={t('header.switch_lang')}
      lang={other === 'zh' ? 'zh-CN' : 'en'}
      onClick={() => setLang(other)}
    >
      {t(`lang.${other}`)}
    </Button>
  );
}

export default LangSwitch;
